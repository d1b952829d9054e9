// The API flow graph: which route actors call after which, from the recent server spans (per actor, in
// time order). Columns follow the usual order of a visit.

import { getPages } from "../api.js";
import { formatNumber, h, notice } from "../dom.js";
import { layeredGraph } from "../graph.js";

const WINDOW_NS = 30 * 60 * 1e9;
const MAX_ROUTES = 16;
const MAX_EDGES = 40;

function routeOf(span) {
  const attributes = span.attributes || {};
  const route = attributes["http.route"];
  return route ? `${attributes["http.request.method"] || ""} ${route}`.trim() : null;
}

export function transitions(spans) {
  const visits = new Map();
  for (const span of spans) {
    const attributes = span.attributes || {};
    const route = routeOf(span);
    const actor = attributes["tracesec.actor.id"];
    if (span.kind !== "server" || !route || !actor) continue;
    const key = `${span.service}|${attributes["tracesec.actor.kind"]}:${actor}`;
    if (!visits.has(key)) visits.set(key, []);
    visits.get(key).push(route);
  }
  const calls = new Map();
  const positions = new Map(); // route -> [sum of relative first positions, visits]
  const pairs = new Map();
  for (const routes of visits.values()) {
    const seen = new Set();
    routes.forEach((route, index) => {
      calls.set(route, (calls.get(route) || 0) + 1);
      if (!seen.has(route)) {
        seen.add(route);
        const [sum, count] = positions.get(route) || [0, 0];
        positions.set(route, [sum + index / Math.max(1, routes.length - 1), count + 1]);
      }
      const next = routes[index + 1];
      if (next && next !== route) pairs.set(`${route}\n${next}`, (pairs.get(`${route}\n${next}`) || 0) + 1);
    });
  }
  const position = new Map([...positions].map(([route, [sum, count]]) => [route, sum / count]));
  return { calls, position, pairs };
}

// Columns in the order routes usually come in a visit: those called early on the left.
function layers(routes, position) {
  const columns = Math.min(5, Math.max(1, Math.ceil(routes.length / 3)));
  const ranked = [...routes].sort((a, b) => position.get(a) - position.get(b));
  return routes.map((route) => Math.floor((ranked.indexOf(route) * columns) / routes.length));
}

export async function render() {
  const since = String(BigInt(Date.now()) * 1000000n - BigInt(WINDOW_NS));
  const spans = await getPages("/v1/spans", "spans", { since, limit: 1000 }, 8);
  const { calls, position, pairs } = transitions(spans);
  if (!calls.size) return [notice("empty", "No routed requests in the last 30 minutes.")];
  const routes = [...calls.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_ROUTES).map(([route]) => route);
  const kept = new Set(routes);
  const edges = [...pairs.entries()]
    .map(([pair, weight]) => {
      const [from, to] = pair.split("\n");
      return { from, to, weight, label: `${from} then ${to}: ${formatNumber(weight)} times` };
    })
    .filter((edge) => kept.has(edge.from) && kept.has(edge.to))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, MAX_EDGES);
  const columns = layers(routes, position);
  const nodes = routes.map((route, index) => ({ id: route, label: route, layer: columns[index], kind: "route", title: `${route}: ${formatNumber(calls.get(route))} calls` }));
  const detail = h("div", { class: "detail-slot" });
  return [
    h("p", { class: "lead" }, `${routes.length} routes and the ${edges.length} most frequent steps between them, from ${formatNumber(spans.length)} recent spans.`),
    h(
      "figure",
      { class: "chart" },
      layeredGraph({
        nodes,
        edges,
        title: "API flow graph",
        description: "Arrows go from a route to the route the same actor called next.",
        onSelect: (node) =>
          detail.replaceChildren(
            h(
              "section",
              { class: "panel", "aria-labelledby": "flow-detail-title" },
              h("h3", { id: "flow-detail-title" }, node.label),
              h("p", {}, `${formatNumber(calls.get(node.id))} calls.`),
              h("ul", {}, edges.filter((edge) => edge.from === node.id || edge.to === node.id).map((edge) => h("li", {}, edge.label))),
            ),
          ),
      }),
      h("figcaption", {}, "Line width grows with how often one route followed the other."),
    ),
    detail,
  ];
}
