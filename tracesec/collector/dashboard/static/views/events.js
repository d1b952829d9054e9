// The most recent security events and spans, newest first.

import { getPages } from "../api.js";
import { formatTime, h, notice, severityClass } from "../dom.js";

const WINDOW_NS = 60 * 60 * 1e9;
const SHOWN = 200;

function recentSince() {
  return String(BigInt(Date.now()) * 1000000n - BigInt(WINDOW_NS));
}

function table(caption, headings, rows) {
  return h(
    "table",
    { class: "data compact" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headings.map((heading) => h("th", { scope: "col" }, heading)))),
    h("tbody", {}, rows),
  );
}

export async function render() {
  const since = recentSince();
  const [events, spans] = await Promise.all([
    getPages("/v1/events", "events", { since, limit: 1000 }, 5),
    getPages("/v1/spans", "spans", { since, limit: 1000 }, 5),
  ]);
  const parts = [];
  if (events.length) {
    parts.push(
      table(
        `Security events, last hour (${events.length})`,
        ["Time", "Type", "Severity", "Blocked", "Service", "Route", "Client"],
        events.slice(-SHOWN).reverse().map((event) => {
          const attributes = event.attributes || {};
          return h(
            "tr",
            { "data-type": event.type },
            h("td", {}, formatTime(event.time_unix_nano)),
            h("td", {}, event.type),
            h("td", {}, h("span", { class: `severity ${severityClass(event.severity)}` }, event.severity)),
            h("td", {}, event.blocked ? "blocked" : ""),
            h("td", {}, event.service),
            h("td", {}, attributes["http.route"] || attributes["url.path"] || ""),
            h("td", {}, attributes["client.address"] || ""),
          );
        }),
      ),
    );
  } else {
    parts.push(notice("empty", "No security events in the last hour."));
  }
  if (spans.length) {
    parts.push(
      table(
        `Spans, last hour (newest ${Math.min(SHOWN, spans.length)} of ${spans.length})`,
        ["Start", "Service", "Kind", "Name", "Status", "Duration"],
        spans.slice(-SHOWN).reverse().map((span) => {
          const attributes = span.attributes || {};
          const milliseconds = (Number(span.end_time_unix_nano) - Number(span.start_time_unix_nano)) / 1e6;
          return h(
            "tr",
            {},
            h("td", {}, formatTime(span.start_time_unix_nano)),
            h("td", {}, span.service),
            h("td", {}, span.kind),
            h("td", {}, span.name),
            h("td", {}, String(attributes["http.response.status_code"] ?? span.status)),
            h("td", { class: "number" }, `${milliseconds.toFixed(1)} ms`),
          );
        }),
      ),
    );
  } else {
    parts.push(notice("empty", "No spans in the last hour."));
  }
  return parts;
}
