// Draws every chart of a flashsale page with uPlot from the JSON embedded in the page.
// Runs in the browser; all the numbers were computed when the page was written.
(function () {
  'use strict';
  var charts = JSON.parse(document.getElementById('flashsale-charts').textContent);
  var HEIGHT = 300;

  // 1/(1-p) → "99.9%": one more decimal per decade past 99%.
  function percentileLabel(x, extra) {
    var p = 100 * (1 - 1 / x);
    var digits = Math.max(0, Math.round(Math.log10(x)) - 2) + (extra || 0);
    return p.toFixed(digits) + '%';
  }

  function num(v) {
    if (v == null) return '–';
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1000) return Math.round(v).toLocaleString('en-US');
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return v.toFixed(3);
  }

  function percentileSplits(u, axisIdx, min, max) {
    var splits = [];
    for (var x = 1; x <= max * 1.0001; x *= 10) {
      if (x >= min) splits.push(x);
    }
    return splits;
  }

  function withUnit(v, unit) {
    if (v == null) return '–';
    if (unit === 'share') return (v * 100).toFixed(v !== 0 && Math.abs(v) < 0.01 ? 2 : 1) + '%';
    if (unit === 'ms') return v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 1 : 2) + ' s' : num(v) + ' ms';
    return num(v);
  }

  // Axis ticks: 1.2k, 25k, 3M rather than 25,000 or 2.5e+4.
  function short(v, unit) {
    if (v == null) return '';
    if (unit === 'share') return Math.round(v * 100) + '%';
    var a = Math.abs(v);
    var s = a >= 1e6 ? +(v / 1e6).toPrecision(3) + 'M' : a >= 1e4 ? +(v / 1e3).toPrecision(3) + 'k' : a >= 1 || a === 0 ? String(+v.toPrecision(4)) : String(+v.toPrecision(2));
    return s;
  }

  function label(ctx, text, x, y, right, pr) {
    ctx.font = 12 * pr + 'px system-ui, sans-serif';
    ctx.textAlign = 'left'; // uPlot leaves its own axis alignment on the context
    ctx.textBaseline = 'alphabetic';
    var w = ctx.measureText(text).width;
    var tx = x + 6 * pr + w > right ? x - 6 * pr - w : x + 6 * pr;
    ctx.fillStyle = 'rgba(255,255,255,0.9)';
    ctx.fillRect(tx - 3 * pr, y - 13 * pr, w + 6 * pr, 18 * pr);
    ctx.fillStyle = '#111827';
    ctx.fillText(text, tx, y);
  }

  // Vertical lines (sell-out, faults: a shaded window when they last) and horizontal limit lines
  // (thresholds), each labelled on a white box placed where it does not sit on the curves' ends.
  function linesPlugin(spec) {
    var markers = (spec.marker ? [spec.marker] : []).concat(spec.markers || []);
    var limits = spec.limits || [];
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx;
          var pr = window.devicePixelRatio || 1;
          var left = u.bbox.left, top = u.bbox.top, right = left + u.bbox.width, bottom = top + u.bbox.height;
          ctx.save();
          markers.forEach(function (m, i) {
            var x = Math.round(u.valToPos(m.x, 'x', true));
            if (m.untilX != null) {
              var x2 = Math.min(right, Math.round(u.valToPos(m.untilX, 'x', true)));
              var x1 = Math.max(left, x);
              if (x2 > x1) {
                ctx.fillStyle = 'rgba(234,88,12,0.10)';
                ctx.fillRect(x1, top, x2 - x1, bottom - top);
              }
            }
            if (x < left || x > right) return;
            ctx.strokeStyle = '#111827';
            ctx.lineWidth = 1.5 * pr;
            ctx.setLineDash([4 * pr, 3 * pr]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, bottom);
            ctx.stroke();
            ctx.setLineDash([]);
            // Halfway down (and stepped for several), so a label never sits on a line at the top.
            label(ctx, m.label, x, top + (bottom - top) * (0.45 + 0.1 * (i % 4)), right, pr);
          });
          limits.forEach(function (l, i) {
            var y = Math.round(u.valToPos(l.y, 'y', true));
            if (y < top || y > bottom) return;
            ctx.strokeStyle = '#b91c1c';
            ctx.lineWidth = 2 * pr;
            ctx.setLineDash([8 * pr, 4 * pr]);
            ctx.beginPath();
            ctx.moveTo(left, y);
            ctx.lineTo(right, y);
            ctx.stroke();
            ctx.setLineDash([]);
            label(ctx, l.label, left + 4 * pr + i * 140 * pr, y - 5 * pr, right, pr);
          });
          ctx.restore();
        },
      },
    };
  }

  function limitMax(spec) {
    return (spec.limits || []).reduce(function (m, l) { return Math.max(m, l.y); }, 0);
  }

  function options(spec, width) {
    var xScale = spec.percentileAxis ? { time: false, distr: 3, log: 10 } : spec.logX ? { time: false, distr: 3, log: 10 } : { time: false };
    var xAxis = { label: spec.xLabel, labelSize: 24, stroke: '#374151', grid: { stroke: '#e5e7eb' } };
    if (spec.percentileAxis) {
      xAxis.splits = percentileSplits;
      xAxis.values = function (u, splits) { return splits.map(function (x) { return percentileLabel(x); }); };
    } else if (spec.logX) {
      xAxis.values = function (u, splits) { return splits.map(function (v) { return short(v); }); };
    }
    var series = [{
      label: spec.percentileAxis ? 'percentile' : spec.xLabel,
      value: spec.percentileAxis
        ? function (u, v) { return v == null ? '–' : percentileLabel(v, 2); }
        : spec.logX ? function (u, v) { return withUnit(v, 'ms'); }
        : function (u, v) { return v == null ? '–' : v.toFixed(1) + ' s'; },
    }];
    spec.series.forEach(function (s) {
      series.push({
        label: s.label,
        stroke: s.color,
        width: 2,
        dash: s.dash ? [6, 4] : undefined,
        fill: s.fill ? s.color + '1f' : undefined,
        spanGaps: !spec.logY,
        points: { show: false },
        value: function (u, v) { return withUnit(v, spec.yUnit); },
      });
    });
    var top = limitMax(spec);
    var yScale = spec.logY
      ? { distr: 3, log: 10, range: function (u, min, max) {
          var lo = min > 0 ? Math.pow(10, Math.floor(Math.log10(min))) : 0.1;
          var hi = Math.max(max > 0 ? max : 1, top);
          return [lo, Math.pow(10, Math.ceil(Math.log10(hi * 1.05)))];
        } }
      : { range: function (u, min, max) { var hi = Math.max(max, top); return [Math.min(0, min), hi > 0 ? hi * 1.08 : 1]; } };
    return {
      width: width,
      height: HEIGHT,
      scales: { x: xScale, y: yScale },
      axes: [
        xAxis,
        { label: spec.yLabel, labelSize: 24, size: 64, stroke: '#374151', grid: { stroke: '#e5e7eb' },
          values: function (u, splits) { return splits.map(function (v) { return short(v, spec.yUnit); }); } },
      ],
      series: series,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      plugins: [linesPlugin(spec)],
    };
  }

  var plots = [];
  function draw(spec) {
    var el = document.querySelector('[data-chart="' + spec.name + '"]');
    if (!el) return;
    var plot = new uPlot(options(spec, el.clientWidth), spec.data, el);
    plots.push({ plot: plot, el: el, spec: spec });
  }
  charts.forEach(draw);

  // The live dashboard hands new specs as they come: same series → new data; else drawn afresh.
  window.flashsaleCharts = {
    update: function (specs) {
      specs.forEach(function (spec) {
        var i = plots.findIndex(function (p) { return p.spec.name === spec.name; });
        var same = i >= 0 && plots[i].spec.series.length === spec.series.length &&
          plots[i].spec.series.every(function (s, k) { return s.label === spec.series[k].label; }) &&
          JSON.stringify(plots[i].spec.markers || []) === JSON.stringify(spec.markers || []);
        if (same) {
          plots[i].spec = spec;
          plots[i].plot.setData(spec.data);
          return;
        }
        if (i >= 0) {
          plots[i].plot.destroy();
          plots.splice(i, 1);
        }
        draw(spec);
      });
    },
  };

  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      plots.forEach(function (p) { p.plot.setSize({ width: p.el.clientWidth, height: HEIGHT }); });
    });
  });
})();
