// What a chart on the page is, as plain data: the page embeds these as JSON and one small client
// script draws every one with uPlot. All numbers are computed here in Node, none in the browser.

export interface SeriesSpec {
  label: string;
  color: string;
  /** Dashed line, used for uncorrected latency so it reads as the secondary line. */
  dash?: boolean;
  /** Filled area under the line. */
  fill?: boolean;
}

export interface ChartSpec {
  /** data-chart attribute of its container. */
  name: string;
  title: string;
  /** One sentence for someone who has never seen the tool. */
  explain: string;
  xLabel: string;
  yLabel: string;
  /** x axis is 1/(1-p), log scale, labelled as percentiles. */
  percentileAxis?: boolean;
  series: SeriesSpec[];
  /** [x, y1, y2, …], aligned; null where a series has no value. */
  data: Array<Array<number | null>>;
  /** A vertical line with a label, e.g. the sell-out moment. */
  marker?: { x: number; label: string };
  /** More vertical lines (events such as faults), each with a shaded span up to untilX when given. */
  markers?: Array<{ x: number; label: string; untilX?: number }>;
  /** Horizontal lines: the limits a threshold or the generator's judge holds this chart to. */
  limits?: Array<{ y: number; label: string }>;
  /** y axis on a log scale (latency spans decades; a linear axis flattens the body to 0). */
  logY?: boolean;
  /** x axis on a log scale (the distribution's latency axis). */
  logX?: boolean;
  /** How the y values read: 'ms' adds the unit, 'share' shows a percentage. */
  yUnit?: 'ms' | 'share';
  /** Span the full page width. */
  wide?: boolean;
}

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** Aligns several [x, y] point lists onto one sorted x axis (uPlot wants one x array). */
export function alignPoints(lists: Array<Array<[number, number]>>): Array<Array<number | null>> {
  const xs = [...new Set(lists.flatMap((l) => l.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = lists.map((l) => {
    const y: Array<number | null> = new Array(xs.length).fill(null);
    for (const [x, v] of l) y[index.get(x)!] = v; // index holds every x of every line (built just above)
    return y;
  });
  return [xs, ...ys];
}
