// The API flow graph of one service (GET /v1/flows): which route its actors call after which, within a
// session. Columns follow a visit: routes sessions start on at the left, then each step further right.

import { getJson } from "../api.js";
import { formatNumber, formatTime, h, notice } from "../dom.js";
import { layeredGraph } from "../graph.js";
import { perService } from "../service.js";

const MAX_ROUTES = 16;
const MAX_EDGES = 40;
const MAX_COLUMNS = 5;

// Column of each route: steps from the nearest route sessions start on (breadth first over the edges);
// routes no kept step reaches go last.
export function columns(nodes, edges) {
  const column = new Map();
  let frontier = nodes.filter((node) => node.entries > 0).map((node) => node.route);
  for (const route of frontier) column.set(route, 0);
  for (let depth = 1; frontier.length && depth < MAX_COLUMNS; depth += 1) {
    const next = [];
    for (const edge of edges) {
      if (frontier.includes(edge.from) && !column.has(edge.to)) {
        column.set(edge.to, depth);
        next.push(edge.to);
      }
    }
    frontier = next;
  }
  const last = Math.min(MAX_COLUMNS - 1, Math.max(0, ...column.values()) + 1);
  return new Map(nodes.map((node) => [node.route, column.has(node.route) ? column.get(node.route) : last]));
}

async function content(service) {
  const reply = await getJson("/v1/flows", { service });
  const coverage = reply.coverage || {};
  if (!(reply.nodes || []).length) return [notice("empty", `No routed requests of ${service} since ${formatTime(coverage.since_unix_nano)}.`)];
  const nodes = [...reply.nodes].sort((a, b) => b.calls - a.calls || a.route.localeCompare(b.route)).slice(0, MAX_ROUTES);
  const kept = new Set(nodes.map((node) => node.route));
  const edges = (reply.edges || []).filter((edge) => kept.has(edge.from) && kept.has(edge.to)).slice(0, MAX_EDGES);
  const column = columns(nodes, edges);
  const calls = new Map(nodes.map((node) => [node.route, node.calls]));
  const graphEdges = edges.map((edge) => ({ from: edge.from, to: edge.to, weight: edge.count, label: `${edge.from} then ${edge.to}: ${formatNumber(edge.count)} times` }));
  const detail = h("div", { class: "detail-slot" });
  return [
    h("p", { class: "lead" }, `${nodes.length} routes and the ${edges.length} most followed steps between them, from ${formatNumber(coverage.spans)} requests by ${formatNumber(coverage.actors)} actors since ${formatTime(coverage.since_unix_nano)}${coverage.spans_limited ? " (the newest only)" : ""}.`),
    h(
      "figure",
      { class: "chart" },
      layeredGraph({
        nodes: nodes.map((node) => ({ id: node.route, label: node.route, layer: column.get(node.route), kind: "route", title: `${node.route}: ${formatNumber(node.calls)} calls, ${formatNumber(node.entries)} sessions start here, ${formatNumber(node.exits)} end here` })),
        edges: graphEdges,
        title: "API flow graph",
        description: "Arrows go from a route to the route the same actor called next.",
        onSelect: (node) =>
          detail.replaceChildren(
            h(
              "section",
              { class: "panel", id: "flow-detail", "aria-labelledby": "flow-detail-title" },
              h("h3", { id: "flow-detail-title" }, node.label),
              h("p", {}, `${formatNumber(calls.get(node.id))} calls.`),
              h("ul", {}, graphEdges.filter((edge) => edge.from === node.id || edge.to === node.id).map((edge) => h("li", {}, edge.label))),
            ),
          ),
      }),
      h("figcaption", {}, "Line width grows with how often one route followed the other."),
    ),
    detail,
  ];
}

export async function render() {
  return perService(content);
}
