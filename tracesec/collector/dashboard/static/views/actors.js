// Actors (users, tokens, API keys, addresses) drawn as clusters: actors that behave alike share a
// cluster (the collector's own clustering when it gives one, otherwise the set of events they raised).

import { getPages } from "../api.js";
import { asButton, formatNumber, formatTime, h, notice, svg } from "../dom.js";

const WIDTH = 900;
const CLUSTER_GAP = 16;

function clusterOf(actor) {
  if (actor.cluster !== undefined && actor.cluster !== null) return String(actor.cluster.label || actor.cluster.id || actor.cluster);
  const events = Object.keys(actor.events || {}).sort();
  const raised = events.filter((type) => type !== "blocked_actor");
  if (!events.length) return "normal traffic";
  return `${(raised.length ? raised : events).join(" + ")}${events.includes("blocked_actor") ? " (blocked)" : ""}`;
}

function riskOf(actor) {
  return typeof actor.risk === "object" && actor.risk !== null ? actor.risk.score : Number(actor.risk || 0);
}

function radius(actor) {
  return 6 + Math.min(22, Math.sqrt(actor.requests || 1));
}

// Circles of each cluster packed in rows inside a rounded box; boxes flow left to right.
function clusterChart(clusters, onSelect) {
  const chart = svg("svg", { class: "clusters", role: "group", "aria-label": "Actor clusters" });
  chart.append(svg("title", { text: "Actor clusters" }));
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const [name, actors] of clusters) {
    const columns = Math.max(1, Math.ceil(Math.sqrt(actors.length)));
    const cell = 2 * Math.max(...actors.map(radius)) + 6;
    const boxWidth = Math.max(140, columns * cell + 20, (name.length + 5) * 7 + 20);
    const boxHeight = Math.ceil(actors.length / columns) * cell + 44;
    if (x + boxWidth > WIDTH) {
      x = 0;
      y += rowHeight + CLUSTER_GAP;
      rowHeight = 0;
    }
    const suspicious = name !== "normal traffic";
    const group = svg("g", { class: `cluster ${suspicious ? "cluster-suspicious" : "cluster-normal"}`, transform: `translate(${x},${y})`, "data-cluster": name });
    group.append(
      svg("rect", { width: boxWidth, height: boxHeight, rx: 10 }),
      svg("text", { class: "cluster-label", x: 10, y: 20, text: `${name} (${actors.length})` }),
    );
    actors.forEach((actor, index) => {
      const cx = 10 + (index % columns) * cell + cell / 2;
      const cy = 32 + Math.floor(index / columns) * cell + cell / 2;
      const label = `${actor.actor}: ${formatNumber(actor.requests)} requests, risk ${riskOf(actor)}`;
      const dot = svg(
        "circle",
        { class: `actor risk-${riskOf(actor) >= 70 ? "high" : riskOf(actor) >= 40 ? "medium" : "low"}`, cx, cy, r: radius(actor), "data-actor": actor.actor },
        svg("title", { text: label }),
      );
      group.append(asButton(dot, label, () => onSelect(actor)));
    });
    chart.append(group);
    x += boxWidth + CLUSTER_GAP;
    rowHeight = Math.max(rowHeight, boxHeight);
  }
  const height = y + rowHeight + 2;
  chart.setAttribute("viewBox", `0 0 ${WIDTH} ${height}`);
  chart.setAttribute("width", WIDTH);
  chart.setAttribute("height", height);
  return chart;
}

function detail(actor) {
  const reasons = (actor.risk && actor.risk.reasons) || [];
  return h(
    "section",
    { class: "panel", id: "actor-detail", "aria-labelledby": "actor-detail-title" },
    h("h3", { id: "actor-detail-title" }, actor.actor),
    h("p", {}, `${actor.kind || ""} on ${actor.service}; ${formatNumber(actor.requests)} requests from ${formatNumber(actor.client_addresses)} addresses; seen ${formatTime(actor.first_seen_unix_nano)} to ${formatTime(actor.last_seen_unix_nano)}.`),
    h("h4", {}, `Risk ${riskOf(actor)}`),
    reasons.length ? h("ul", {}, reasons.map((reason) => h("li", {}, reason))) : h("p", { class: "muted" }, "No events raised."),
    h("h4", {}, "Routes called"),
    h("ul", {}, (actor.routes || []).map((route) => h("li", {}, h("code", {}, route.route), ` ${formatNumber(route.requests)} calls`))),
  );
}

export async function render() {
  const actors = await getPages("/v1/actors", "actors", { limit: 500 }, 4);
  if (!actors.length) return [notice("empty", "No actor seen yet.")];
  const clusters = new Map();
  for (const actor of actors) {
    const name = clusterOf(actor);
    if (!clusters.has(name)) clusters.set(name, []);
    clusters.get(name).push(actor);
  }
  const ordered = [...clusters.entries()].sort((a, b) => (a[0] === "normal traffic") - (b[0] === "normal traffic") || b[1].length - a[1].length);
  const panel = h("div", { class: "detail-slot" });
  return [
    h("p", { class: "lead" }, `${actors.length} actors in ${clusters.size} clusters. Circle size grows with requests; colour shows risk. Select one for its details.`),
    h("figure", { class: "chart" }, clusterChart(ordered, (actor) => panel.replaceChildren(detail(actor))), h("figcaption", {}, "Actors grouped by what they did.")),
    panel,
  ];
}
