// An endpoint's baseline as a picture (GET /v1/baselines): per metric, each bucket's value as a line,
// the forecast band it was judged against as a shaded area, the forecast dashed, anomalies as red dots.

import { formatNumber, h, svg } from "./dom.js";

const WIDTH = 640;
const HEIGHT = 150;
const MARGIN = { left: 64, right: 12, top: 10, bottom: 22 };
const METRICS = { requests: "Requests per bucket", response_bytes: "Response bytes per bucket" };

function points(buckets, x, y, field) {
  return buckets.map((bucket, index) => `${x(index).toFixed(1)},${y(bucket[field]).toFixed(1)}`).join(" ");
}

function chart(metric, buckets, bucketSeconds) {
  const top = Math.max(1, ...buckets.map((bucket) => Math.max(bucket.high, bucket.value)));
  const x = (index) => MARGIN.left + (buckets.length > 1 ? (index / (buckets.length - 1)) * (WIDTH - MARGIN.left - MARGIN.right) : 0);
  const y = (value) => HEIGHT - MARGIN.bottom - (value / top) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const band = `${points(buckets, x, y, "high")} ${points([...buckets].reverse(), (index) => x(buckets.length - 1 - index), y, "low")}`;
  const anomalies = buckets.filter((bucket) => bucket.anomaly);
  const title = `${METRICS[metric]} over the last ${buckets.length} buckets of ${bucketSeconds} s: ${anomalies.length} outside the band`;
  const picture = svg(
    "svg",
    { class: "baseline", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: "img", "aria-label": title, "data-metric": metric },
    svg("title", { text: title }),
    svg("polygon", { class: "band", points: band }),
    svg("polyline", { class: "forecast", points: points(buckets, x, y, "forecast") }),
    svg("polyline", { class: "series", points: points(buckets, x, y, "value"), "data-buckets": buckets.length }),
    svg("line", { class: "axis", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0) }),
    svg("text", { class: "tick-label", x: MARGIN.left - 6, y: y(top) + 8, "text-anchor": "end", text: formatNumber(Math.round(top)) }),
    svg("text", { class: "tick-label", x: MARGIN.left - 6, y: y(0), "text-anchor": "end", text: "0" }),
    svg("text", { class: "tick-label", x: MARGIN.left, y: HEIGHT - 4, text: new Date(buckets[0].bucket_start * 1000).toLocaleString() }),
  );
  buckets.forEach((bucket, index) => {
    if (!bucket.anomaly) return;
    picture.append(
      svg("circle", { class: "anomaly", cx: x(index), cy: y(bucket.value), r: 5 }, svg("title", { text: `${new Date(bucket.bucket_start * 1000).toLocaleString()}: ${formatNumber(bucket.value)}, expected ${formatNumber(Math.round(bucket.low))} to ${formatNumber(Math.round(bucket.high))}` })),
    );
  });
  return h("figure", { class: "chart baseline-chart" }, picture, h("figcaption", {}, title));
}

// baseline: one entry of GET /v1/baselines' "baselines"; bucketSeconds: the answer's bucket_seconds.
export function baselineCharts(baseline, bucketSeconds) {
  return Object.entries(baseline.metrics)
    .filter(([, metric]) => metric.buckets.length)
    .map(([name, metric]) => chart(name, metric.buckets, bucketSeconds));
}
