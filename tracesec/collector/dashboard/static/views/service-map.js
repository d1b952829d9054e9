// The service map: each service, the hosts, databases and processes it calls, as a graph.

import { getJson } from "../api.js";
import { formatNumber, h, notice } from "../dom.js";
import { layeredGraph } from "../graph.js";

const KINDS = { http: "host", https: "host", process: "process", file: "file" };

// GET /v1/service-map: {"services": [{"name", "hosts", "instances"}], "edges": [{"source", "target",
// "kind", "calls"}]}; services on the left, what they call on the right.
export function mapGraph(reply) {
  const services = new Map((reply.services || []).map((service) => [service.name, service]));
  const edges = (reply.edges || []).map((edge) => ({
    from: edge.source,
    to: edge.target,
    kind: edge.kind,
    weight: edge.calls || 1,
    label: `${edge.source} -> ${edge.target}: ${formatNumber(edge.calls)} calls`,
  }));
  for (const edge of edges) if (!services.has(edge.from)) services.set(edge.from, { name: edge.from, hosts: [], instances: 0 });
  const nodes = [...services.values()].map((service) => ({
    id: service.name,
    label: service.name,
    layer: 0,
    kind: "service",
    title: `service ${service.name}: ${formatNumber(service.instances)} processes on ${(service.hosts || []).join(", ") || "unknown hosts"}`,
  }));
  const targets = new Map();
  for (const edge of edges) {
    if (services.has(edge.to) || targets.has(edge.to)) continue;
    targets.set(edge.to, { id: edge.to, label: edge.to, layer: 1, kind: KINDS[edge.kind] || "database", title: `${edge.to} (${edge.kind})` });
  }
  return { nodes: [...nodes, ...targets.values()], edges };
}

export async function render() {
  const { nodes, edges } = mapGraph(await getJson("/v1/service-map"));
  if (!nodes.length) return [notice("empty", "No service reported yet.")];
  const detail = h("div", { class: "detail-slot" });
  const graph = layeredGraph({
    nodes,
    edges,
    title: "Service map",
    description: "Services on the left, the hosts, databases and processes they call on the right.",
    onSelect: (node) => {
      const outgoing = edges.filter((edge) => edge.from === node.id);
      const incoming = edges.filter((edge) => edge.to === node.id);
      detail.replaceChildren(
        h(
          "section",
          { class: "panel", "aria-labelledby": "map-detail-title" },
          h("h3", { id: "map-detail-title" }, node.label),
          h("ul", {}, [...outgoing, ...incoming].map((edge) => h("li", {}, edge.label))),
        ),
      );
    },
  });
  return [
    h("p", { class: "lead" }, `${nodes.filter((node) => node.kind === "service").length} services, ${edges.length} dependencies.`),
    h("figure", { class: "chart" }, graph, h("figcaption", {}, "Line width grows with the number of calls.")),
    h("ul", { class: "legend" }, ["service", "database", "host", "process", "file"].map((kind) => h("li", { class: `legend-${kind}` }, kind))),
    detail,
  ];
}
