// API inventory: every endpoint the agents learnt, sortable; one click shows its parameters and why it
// scored the risk it did.

import { getJson, getPages } from "../api.js";
import { baselineCharts } from "../baseline-chart.js";
import { formatNumber, formatTime, h, notice } from "../dom.js";

const COLUMNS = [
  { key: "endpoint", label: "Endpoint", value: (api) => `${api.route} ${api.method}` },
  { key: "service", label: "Service", value: (api) => api.service },
  { key: "risk", label: "Risk", value: (api) => riskScore(api), numeric: true },
  { key: "labels", label: "Sensitive data", value: (api) => labelsOf(api).join(",") },
  { key: "auth", label: "Auth", value: (api) => authSchemes(api).join(",") },
  { key: "calls", label: "Calls", value: (api) => api.calls || 0, numeric: true },
  { key: "last_seen", label: "Last seen", value: (api) => api.last_seen_unix_nano || 0, numeric: true },
];

export function riskScore(api) {
  return typeof api.risk === "object" && api.risk !== null ? api.risk.score : Number(api.risk || 0);
}

function riskReasons(api) {
  return (typeof api.risk === "object" && api.risk !== null && api.risk.reasons) || [];
}

export function labelsOf(api) {
  const labels = api.labels || {};
  const all = Array.isArray(labels) ? labels : [...(labels.request || []), ...(labels.response || [])];
  return [...new Set(all)].sort();
}

function authSchemes(api) {
  return Object.keys(api.auth || {}).sort();
}

function riskBand(score) {
  return score >= 70 ? "high" : score >= 40 ? "medium" : "low";
}

function labelChips(labels) {
  return labels.length
    ? h("ul", { class: "chips" }, labels.map((label) => h("li", { class: "chip chip-sensitive" }, label)))
    : h("span", { class: "muted" }, "none");
}

function detail(api) {
  const parameters = api.parameters || [];
  const labels = api.labels || {};
  return h(
    "section",
    { class: "panel", id: "endpoint-detail", "aria-labelledby": "endpoint-detail-title" },
    h("h3", { id: "endpoint-detail-title" }, `${api.method} ${api.route}`),
    h("p", {}, `Service ${api.service}; ${formatNumber(api.calls)} calls; first seen ${formatTime(api.first_seen_unix_nano)}.`),
    h("h4", {}, `Why risk ${riskScore(api)}`),
    riskReasons(api).length
      ? h("ul", { class: "reasons" }, riskReasons(api).map((reason) => h("li", {}, reason)))
      : h("p", { class: "muted" }, "Nothing raised its risk."),
    h("h4", {}, "Parameters"),
    parameters.length
      ? h(
          "table",
          { class: "data compact" },
          h("thead", {}, h("tr", {}, ["In", "Name", "Types", "Formats", "Sensitive"].map((label) => h("th", { scope: "col" }, label)))),
          h(
            "tbody",
            {},
            parameters.map((parameter) =>
              h(
                "tr",
                {},
                h("td", {}, parameter.in),
                h("td", {}, h("code", {}, parameter.name)),
                h("td", {}, (parameter.types || []).join(" | ")),
                h("td", {}, (parameter.formats || []).join(", ")),
                h("td", {}, labelChips(parameter.labels || [])),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No parameters seen."),
    h("h4", {}, "Sensitive data"),
    h("p", {}, "Received: ", labelChips(labels.request || [])),
    h("p", {}, "Returned: ", labelChips(labels.response || [])),
    h("h4", {}, "Traffic against its baseline"),
    baselineSection(api),
    h("h4", {}, "Calls made while serving it"),
    (api.downstream || []).length
      ? h("ul", {}, api.downstream.map((target) => h("li", {}, h("code", {}, target))))
      : h("p", { class: "muted" }, "None."),
    openApiButton(api.service),
  );
}

// Requests and response bytes per bucket against the forecast band the collector's baseline job
// judged them by, filled in once GET /v1/baselines answers.
function baselineSection(api) {
  const slot = h("div", { id: "endpoint-baseline", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the baseline..."));
  getJson("/v1/baselines", { service: api.service, route: `${api.method} ${api.route}` })
    .then((reply) => {
      const baseline = (reply.baselines || [])[0];
      const charts = baseline ? baselineCharts(baseline, reply.bucket_seconds) : [];
      slot.replaceChildren(
        ...(charts.length ? charts : [h("p", { class: "muted" }, `No baseline yet: the collector feeds buckets of ${reply.bucket_seconds} s once they close.`)]),
      );
    })
    .catch((error) => slot.replaceChildren(notice("error", `Could not load the baseline: ${error.message}`)))
    .finally(() => slot.setAttribute("aria-busy", "false"));
  return slot;
}

// The inferred OpenAPI document, fetched with the API key (a plain link could not send it).
function openApiButton(service) {
  const slot = h("div");
  const button = h("button", { type: "button", class: "link" }, `Show the OpenAPI document of ${service}`);
  button.addEventListener("click", async () => {
    try {
      const document = await getJson("/v1/openapi.json", { service });
      slot.replaceChildren(h("pre", { class: "openapi" }, JSON.stringify(document, null, 2)));
    } catch (error) {
      slot.replaceChildren(notice("error", `Could not load it: ${error.message}`));
    }
  });
  return h("div", {}, button, slot);
}

export async function render(view) {
  const apis = await getPages("/v1/apis", "apis", { limit: 1000 }, 10);
  if (!apis.length) return [notice("empty", "No endpoint reported yet: instrument an app and send it some traffic.")];
  const sort = { key: "risk", descending: true };
  const tbody = h("tbody");
  const headerRow = h("tr");
  const detailSlot = h("div", { class: "detail-slot" });

  function select(api, row) {
    for (const other of tbody.querySelectorAll("tr[aria-selected='true']")) other.setAttribute("aria-selected", "false");
    row.setAttribute("aria-selected", "true");
    detailSlot.replaceChildren(detail(api));
    detailSlot.querySelector("h3").scrollIntoView({ block: "nearest" });
  }

  function draw() {
    const column = COLUMNS.find((candidate) => candidate.key === sort.key);
    const sorted = [...apis].sort((a, b) => {
      const [x, y] = [column.value(a), column.value(b)];
      const order = column.numeric ? x - y : String(x).localeCompare(String(y));
      return sort.descending ? -order : order;
    });
    headerRow.replaceChildren(
      ...COLUMNS.map((candidate) => {
        const active = candidate.key === sort.key;
        return h(
          "th",
          { scope: "col", "aria-sort": active ? (sort.descending ? "descending" : "ascending") : "none" },
          h(
            "button",
            {
              type: "button",
              class: "sort",
              "data-sort": candidate.key,
              onclick: () => {
                sort.descending = active ? !sort.descending : Boolean(candidate.numeric);
                sort.key = candidate.key;
                draw();
              },
            },
            candidate.label,
            h("span", { "aria-hidden": "true" }, active ? (sort.descending ? " ▼" : " ▲") : ""),
          ),
        );
      }),
    );
    tbody.replaceChildren(
      ...sorted.map((api) => {
        const score = riskScore(api);
        const row = h("tr", { "data-route": api.route, "data-method": api.method, "aria-selected": "false" });
        row.append(
          h("td", {}, h("button", { type: "button", class: "link", onclick: () => select(api, row) }, h("span", { class: `method method-${api.method}` }, api.method), " ", api.route)),
          h("td", {}, api.service),
          h("td", { class: "risk" }, h("span", { class: `risk-badge risk-${riskBand(score)}`, "data-risk": score }, String(score))),
          h("td", {}, labelChips(labelsOf(api))),
          h("td", {}, authSchemes(api).join(", ") || h("span", { class: "warn" }, "none")),
          h("td", { class: "number" }, formatNumber(api.calls)),
          h("td", {}, formatTime(api.last_seen_unix_nano)),
        );
        return row;
      }),
    );
  }

  draw();
  const sensitive = apis.filter((api) => labelsOf(api).length).length;
  return [
    h("p", { class: "lead" }, `${apis.length} endpoints, ${sensitive} handling sensitive data. Select an endpoint for its parameters and the reasons for its risk.`),
    h("table", { class: "data", id: "inventory-table" }, h("caption", { class: "visually-hidden" }, "API inventory"), h("thead", {}, headerRow), tbody),
    detailSlot,
  ];
}
