// Actors (users, tokens, API keys, addresses) of one service drawn in the collector's behaviour clusters
// (GET /v1/clusters: MinHash + LSH over what each actor called, in which order). Outliers have a box of
// their own; an attacker who behaves like a clean cluster ("looks like group B, but attacked") is marked.

import { getJson, getPages } from "../api.js";
import { asButton, formatNumber, formatTime, h, notice, svg } from "../dom.js";
import { perService } from "../service.js";

const WIDTH = 900;
const CLUSTER_GAP = 16;

function riskOf(actor) {
  return typeof actor.risk === "object" && actor.risk !== null ? actor.risk.score : Number(actor.risk || 0);
}

function riskBand(score) {
  return score >= 70 ? "high" : score >= 40 ? "medium" : "low";
}

function radius(actor) {
  return 6 + Math.min(22, Math.sqrt(actor.requests || 1));
}

// "GET /api/login + 2 more": what a cluster's members call most.
function clusterName(cluster) {
  const routes = (cluster.top_routes || []).map((route) => route.route);
  if (!routes.length) return cluster.cluster_id;
  return routes.length > 1 ? `${routes[0]} + ${routes.length - 1} more` : routes[0];
}

// One box per cluster (largest first), then the outliers, then actors outside the analysis window.
export function boxesOf(actors, reply) {
  const boxes = (reply.clusters || []).map((cluster) => ({
    id: cluster.cluster_id,
    kind: cluster.attackers ? "cluster cluster-attacked" : "cluster",
    title: `${clusterName(cluster)} (${cluster.size})`,
    cluster,
    members: [],
  }));
  const byId = new Map(boxes.map((box) => [box.id, box]));
  const outliers = { id: "outliers", kind: "outliers", title: "Outliers: behave like no cluster", members: [] };
  const outside = { id: "outside-window", kind: "outside", title: "Not seen in the analysis window", members: [] };
  for (const actor of actors) {
    const placed = actor.cluster;
    const box = !placed ? outside : placed.outlier ? outliers : byId.get(placed.cluster_id) || outside;
    box.members.push(actor);
  }
  for (const box of [outliers, outside]) box.title = `${box.title} (${box.members.length})`;
  return [...boxes, outliers, outside].filter((box) => box.members.length);
}

// Circles of each box packed in rows inside a rounded box; boxes flow left to right.
function clusterChart(boxes, onSelect) {
  const chart = svg("svg", { class: "clusters", role: "group", "aria-label": "Actor clusters" });
  chart.append(svg("title", { text: "Actor clusters" }));
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const box of boxes) {
    const columns = Math.max(1, Math.ceil(Math.sqrt(box.members.length)));
    const cell = 2 * Math.max(...box.members.map(radius)) + 6;
    const boxWidth = Math.min(WIDTH, Math.max(160, columns * cell + 20, (box.title.length + 2) * 7 + 20));
    const boxHeight = Math.ceil(box.members.length / columns) * cell + 44;
    if (x + boxWidth > WIDTH) {
      x = 0;
      y += rowHeight + CLUSTER_GAP;
      rowHeight = 0;
    }
    const group = svg("g", { class: box.kind, transform: `translate(${x},${y})`, "data-cluster": box.id });
    group.append(svg("rect", { width: boxWidth, height: boxHeight, rx: 10 }), svg("text", { class: "cluster-label", x: 10, y: 20, text: box.title }));
    box.members.forEach((actor, index) => {
      const cx = 10 + (index % columns) * cell + cell / 2;
      const cy = 32 + Math.floor(index / columns) * cell + cell / 2;
      const lookalike = Boolean(actor.cluster && actor.cluster.lookalike_attacker);
      const label = `${actor.actor}: ${formatNumber(actor.requests)} requests, risk ${riskOf(actor)}${lookalike ? ", behaves like this cluster but attacked" : ""}`;
      const dot = svg(
        "circle",
        { class: `actor risk-${riskBand(riskOf(actor))}${lookalike ? " lookalike" : ""}`, cx, cy, r: radius(actor), "data-actor": actor.actor },
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

function behaviourText(actor, names, lookalikes) {
  const placed = actor.cluster;
  if (!placed) return "Not seen in the analysis window, so not clustered.";
  const similarity = `similarity ${Number(placed.similarity).toFixed(2)}`;
  const text = placed.outlier
    ? `Outlier: behaves like no cluster; closest is ${names.get(placed.nearest_cluster) || "none"} (${similarity}).`
    : `In the cluster ${names.get(placed.cluster_id) || placed.cluster_id} (${similarity}).`;
  const lookalike = lookalikes.get(actor.actor);
  return lookalike ? `${text} Looks like that cluster, but attacked: ${lookalike.event_types.join(", ")}.` : text;
}

function baselineText(baseline) {
  if (!baseline) return "No calls in the newest sketch window.";
  const ratio = baseline.ratio === null ? "" : `, ${Number(baseline.ratio).toFixed(1)} x`;
  return `Most unusual route in the newest ${baseline.window_seconds} s window: ${baseline.route}, ${formatNumber(baseline.calls)} calls against a p95 of ${formatNumber(baseline.route_p95)} among its ${formatNumber(baseline.route_actors)} actors${ratio}${baseline.outside ? ": far outside" : ""}.`;
}

function detail(actor, names, lookalikes) {
  const reasons = (actor.risk && actor.risk.reasons) || [];
  return h(
    "section",
    { class: "panel", id: "actor-detail", "aria-labelledby": "actor-detail-title" },
    h("h3", { id: "actor-detail-title" }, actor.actor),
    h("p", {}, `${actor.kind || ""} on ${actor.service}; ${formatNumber(actor.requests)} requests from ${formatNumber(actor.client_addresses)} addresses; seen ${formatTime(actor.first_seen_unix_nano)} to ${formatTime(actor.last_seen_unix_nano)}.`),
    h("h4", {}, "Behaviour"),
    h("p", { class: "behaviour" }, behaviourText(actor, names, lookalikes)),
    h("p", { class: "actor-baseline" }, baselineText(actor.baseline)),
    h("h4", {}, `Risk ${riskOf(actor)}`),
    reasons.length ? h("ul", {}, reasons.map((reason) => h("li", {}, reason))) : h("p", { class: "muted" }, "No events raised."),
    h("h4", {}, "Routes called"),
    h("ul", {}, (actor.routes || []).map((route) => h("li", {}, h("code", {}, route.route), ` ${formatNumber(route.requests)} calls`))),
  );
}

function lookalikeTable(lookalikes, names) {
  if (!lookalikes.length) return h("p", { class: "muted" }, "No attacker behaves like a clean cluster.");
  return h(
    "table",
    { class: "data compact", id: "lookalikes" },
    h("caption", {}, "Look-alike attackers: behave like a cluster of normal actors, but attacked"),
    h("thead", {}, h("tr", {}, ["Actor", "Looks like", "Similarity", "Attacks"].map((label) => h("th", { scope: "col" }, label)))),
    h(
      "tbody",
      {},
      lookalikes.map((lookalike) =>
        h(
          "tr",
          { "data-actor": lookalike.actor },
          h("td", {}, h("code", {}, lookalike.actor)),
          h("td", {}, `${names.get(lookalike.cluster_id) || lookalike.cluster_id}, ${lookalike.attackers_in_cluster} of ${lookalike.cluster_size} attacked`),
          h("td", { class: "number" }, Number(lookalike.similarity).toFixed(2)),
          h("td", {}, lookalike.event_types.join(", ")),
        ),
      ),
    ),
  );
}

async function content(service) {
  const [actors, reply] = await Promise.all([getPages("/v1/actors", "actors", { service, limit: 500 }, 4), getJson("/v1/clusters", { service })]);
  if (!actors.length) return [notice("empty", "No actor seen yet.")];
  const boxes = boxesOf(actors, reply);
  const names = new Map(boxes.map((box) => [box.id, box.title]));
  const lookalikes = new Map((reply.lookalike_attackers || []).map((lookalike) => [lookalike.actor, lookalike]));
  const panel = h("div", { class: "detail-slot" });
  const coverage = reply.coverage || {};
  return [
    h("p", { class: "lead" }, `${actors.length} actors; ${(reply.clusters || []).length} behaviour clusters and ${(reply.outliers || []).length} outliers from ${formatNumber(coverage.spans)} requests since ${formatTime(coverage.since_unix_nano)}${coverage.spans_limited ? " (the newest only)" : ""}. Circle size grows with requests; colour shows risk; a dashed ring marks a look-alike attacker. Select one for its details.`),
    h("figure", { class: "chart" }, clusterChart(boxes, (actor) => panel.replaceChildren(detail(actor, names, lookalikes))), h("figcaption", {}, "Actors grouped by what they called and in which order.")),
    lookalikeTable(reply.lookalike_attackers || [], names),
    panel,
  ];
}

export async function render() {
  return perService(content);
}
