// Incidents on a timeline: one row per incident (an actor's run of events), each of its entries (events
// of one type on one route) a bar from the first to the last event, coloured by severity. Selecting an
// incident shows its evidence.

import { getJson } from "../api.js";
import { asButton, formatNumber, formatTime, h, notice, severityClass, svg } from "../dom.js";

const ROW_HEIGHT = 30;
const LABEL_WIDTH = 300;
const PLOT_WIDTH = 720;
const AXIS_HEIGHT = 30;
const MIN_SPAN_NS = 2e9;

// "rate_anomaly by jwt:50": the types that opened it (a blocked_actor event only follows one).
export function titleOf(incident) {
  const types = (incident.types || []).filter((type) => type !== "blocked_actor");
  return `${(types.length ? types : incident.types || []).join(", ")} by ${incident.subject}`;
}

function shorten(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function timeline(incidents, onSelect) {
  const first = Math.min(...incidents.map((incident) => incident.first_seen_unix_nano));
  const last = Math.max(...incidents.map((incident) => incident.last_seen_unix_nano));
  const span = Math.max(last - first, MIN_SPAN_NS);
  const x = (time) => LABEL_WIDTH + 10 + ((time - first) / span) * (PLOT_WIDTH - 20);
  const width = LABEL_WIDTH + PLOT_WIDTH + 40;
  const height = incidents.length * ROW_HEIGHT + AXIS_HEIGHT + 10;
  const chart = svg("svg", { class: "timeline", viewBox: `0 0 ${width} ${height}`, width, height, role: "group", "aria-label": "Incidents over time" });
  chart.append(svg("title", { text: "Incidents over time" }));
  const axisY = incidents.length * ROW_HEIGHT + 4;
  for (let tick = 0; tick <= 4; tick += 1) {
    const time = first + (span * tick) / 4;
    chart.append(
      svg("line", { class: "grid", x1: x(time), x2: x(time), y1: 0, y2: axisY }),
      svg("text", { class: "tick-label", x: x(time), y: axisY + 18, "text-anchor": "middle", text: new Date(time / 1e6).toLocaleTimeString([], span < 20e9 ? { hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 1 } : {}) }),
    );
  }
  chart.append(svg("line", { class: "axis", x1: LABEL_WIDTH, x2: LABEL_WIDTH + PLOT_WIDTH, y1: axisY, y2: axisY }));
  incidents.forEach((incident, index) => {
    const y = index * ROW_HEIGHT;
    const label = `${incident.severity} incident: ${titleOf(incident)}, ${formatNumber(incident.event_count)} events from ${formatTime(incident.first_seen_unix_nano)}`;
    const row = svg(
      "g",
      { class: `incident ${severityClass(incident.severity)}`, "data-incident": incident.id, "data-types": (incident.types || []).join(" ") },
      svg("rect", { class: "lane", x: 0, y, width: LABEL_WIDTH + PLOT_WIDTH + 20, height: ROW_HEIGHT - 4 }),
      svg("text", { class: "lane-label", x: LABEL_WIDTH - 10, y: y + ROW_HEIGHT / 2 + 2, "text-anchor": "end", text: shorten(titleOf(incident), 44) }),
      svg("title", { text: label }),
    );
    for (const entry of incident.timeline || []) {
      const left = x(entry.first_seen_unix_nano);
      row.append(
        svg(
          "rect",
          { class: `entry ${severityClass(entry.severity)}`, x: left, y: y + 5, width: Math.max(8, x(entry.last_seen_unix_nano) - left), height: ROW_HEIGHT - 14, rx: 3 },
          svg("title", { text: `${entry.type} on ${entry.route || "-"}: ${entry.count} events${entry.blocked ? ", blocked" : ""}` }),
        ),
      );
    }
    chart.append(asButton(row, label, () => onSelect(incident, row)));
  });
  return chart;
}

function evidence(entry) {
  return h("dl", { class: "evidence" }, Object.entries(entry.evidence || {}).map(([key, value]) => [h("dt", {}, key), h("dd", {}, h("code", {}, typeof value === "string" ? value : JSON.stringify(value)))]));
}

function detail(incident) {
  return h(
    "section",
    { class: "panel", id: "incident-detail", "aria-labelledby": "incident-detail-title" },
    h("h3", { id: "incident-detail-title" }, titleOf(incident)),
    h(
      "p",
      {},
      h("span", { class: `severity ${severityClass(incident.severity)}` }, incident.severity),
      ` on ${incident.service}: ${formatNumber(incident.event_count)} events from ${formatTime(incident.first_seen_unix_nano)} to ${formatTime(incident.last_seen_unix_nano)}; `,
      incident.blocked ? h("strong", {}, "blocked") : "not blocked",
      ".",
    ),
    h("h4", {}, "Evidence"),
    h(
      "table",
      { class: "data compact" },
      h("thead", {}, h("tr", {}, ["Type", "Route", "Events", "Blocked", "First", "Evidence (first event)"].map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        (incident.timeline || []).map((entry) =>
          h(
            "tr",
            { "data-type": entry.type },
            h("td", {}, h("span", { class: `severity ${severityClass(entry.severity)}` }, entry.type)),
            h("td", {}, h("code", {}, entry.route || "-")),
            h("td", { class: "number" }, formatNumber(entry.count)),
            h("td", {}, entry.blocked ? "blocked" : "no"),
            h("td", {}, formatTime(entry.first_seen_unix_nano)),
            h("td", {}, evidence(entry)),
          ),
        ),
      ),
    ),
  );
}

export async function render() {
  const reply = await getJson("/v1/incidents", { limit: 200 });
  const incidents = (reply.incidents || []).slice().sort((a, b) => a.first_seen_unix_nano - b.first_seen_unix_nano);
  if (!incidents.length) return [notice("empty", "No incidents: nothing suspicious reported in the last day.")];
  const panel = h("div", { class: "detail-slot" });
  function select(incident, row) {
    for (const other of document.querySelectorAll(".incident[aria-pressed='true']")) other.setAttribute("aria-pressed", "false");
    row.setAttribute("aria-pressed", "true");
    panel.replaceChildren(detail(incident));
  }
  const counts = {};
  for (const incident of incidents) counts[incident.severity] = (counts[incident.severity] || 0) + 1;
  return [
    h("p", { class: "lead" }, `${incidents.length} incidents (${Object.entries(counts).map(([severity, count]) => `${count} ${severity}`).join(", ")}), oldest first. Select one for its evidence.`),
    h("figure", { class: "chart" }, timeline(incidents, select), h("figcaption", {}, "Each row is one actor's run of events; each bar, events of one type on one route.")),
    panel,
  ];
}
