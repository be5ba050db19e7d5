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

  function markerPlugin(marker) {
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx;
          var x = Math.round(u.valToPos(marker.x, 'x', true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          var pr = window.devicePixelRatio || 1;
          ctx.save();
          ctx.strokeStyle = '#111827';
          ctx.lineWidth = 1.5 * pr;
          ctx.setLineDash([4 * pr, 3 * pr]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = '#111827';
          ctx.font = 12 * pr + 'px system-ui, sans-serif';
          ctx.textAlign = 'left'; // uPlot leaves its own axis alignment on the context
          ctx.textBaseline = 'alphabetic';
          var w = ctx.measureText(marker.label).width;
          var tx = x + 6 * pr + w > u.bbox.left + u.bbox.width ? x - 6 * pr - w : x + 6 * pr;
          // Halfway down, on a white box, so it never sits on the stock line at the top.
          var ty = u.bbox.top + u.bbox.height * 0.45;
          ctx.fillStyle = 'rgba(255,255,255,0.9)';
          ctx.fillRect(tx - 3 * pr, ty - 13 * pr, w + 6 * pr, 18 * pr);
          ctx.fillStyle = '#111827';
          ctx.fillText(marker.label, tx, ty);
          ctx.restore();
        },
      },
    };
  }

  function options(spec, width) {
    var xScale = spec.percentileAxis ? { time: false, distr: 3, log: 10 } : { time: false };
    var xAxis = { label: spec.xLabel, labelSize: 24, stroke: '#374151', grid: { stroke: '#e5e7eb' } };
    if (spec.percentileAxis) {
      xAxis.splits = percentileSplits;
      xAxis.values = function (u, splits) { return splits.map(function (x) { return percentileLabel(x); }); };
    }
    var series = [{
      label: spec.percentileAxis ? 'percentile' : spec.xLabel,
      value: spec.percentileAxis
        ? function (u, v) { return v == null ? '–' : percentileLabel(v, 2); }
        : function (u, v) { return v == null ? '–' : v.toFixed(1) + ' s'; },
    }];
    spec.series.forEach(function (s) {
      series.push({
        label: s.label,
        stroke: s.color,
        width: 2,
        dash: s.dash ? [6, 4] : undefined,
        fill: s.fill ? s.color + '1f' : undefined,
        spanGaps: true,
        points: { show: false },
        value: function (u, v) { return num(v); },
      });
    });
    return {
      width: width,
      height: HEIGHT,
      scales: {
        x: xScale,
        y: { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.08 : 1]; } },
      },
      axes: [
        xAxis,
        { label: spec.yLabel, labelSize: 24, size: 64, stroke: '#374151', grid: { stroke: '#e5e7eb' } },
      ],
      series: series,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      plugins: spec.marker ? [markerPlugin(spec.marker)] : [],
    };
  }

  var plots = [];
  charts.forEach(function (spec) {
    var el = document.querySelector('[data-chart="' + spec.name + '"]');
    if (!el) return;
    var plot = new uPlot(options(spec, el.clientWidth), spec.data, el);
    plots.push({ plot: plot, el: el });
  });

  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      plots.forEach(function (p) { p.plot.setSize({ width: p.el.clientWidth, height: HEIGHT }); });
    });
  });
})();
