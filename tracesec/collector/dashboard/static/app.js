// The page: a view per hash (#/inventory, ...), the API key prompt, refresh.

import { KeyNeeded, NotAvailable, storedKey, storeKey } from "./api.js";
import { h, notice } from "./dom.js";
import * as actors from "./views/actors.js";
import * as events from "./views/events.js";
import * as flow from "./views/flow.js";
import * as incidents from "./views/incidents.js";
import * as inventory from "./views/inventory.js";
import * as serviceMap from "./views/service-map.js";

const VIEWS = {
  inventory: { title: "API inventory", module: inventory },
  "service-map": { title: "Service map", module: serviceMap },
  incidents: { title: "Incidents", module: incidents },
  actors: { title: "Actors", module: actors },
  flow: { title: "API flow", module: flow },
  events: { title: "Events and spans", module: events },
};

const main = document.getElementById("view");
const dialog = document.getElementById("key-dialog");
let shown = 0;

function currentView() {
  const name = window.location.hash.replace(/^#\/?/, "");
  return VIEWS[name] ? name : "inventory";
}

function askForKey(wrongKey) {
  document.getElementById("key-reason").firstChild.textContent = wrongKey
    ? "The collector refused the stored API key. Enter a valid one; it is kept in this browser only (localStorage) and sent as "
    : "This collector has API keys. Enter one to read its data; it is kept in this browser only (localStorage) and sent as ";
  if (!dialog.open) dialog.showModal();
  document.getElementById("key-input").focus();
}

async function show() {
  const name = currentView();
  const view = VIEWS[name];
  const ticket = ++shown;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${view.title} - tracesec`;
  main.setAttribute("aria-busy", "true");
  main.replaceChildren(h("h2", {}, view.title), notice("loading", "Loading..."));
  let content;
  try {
    content = await view.module.render();
  } catch (error) {
    if (error instanceof KeyNeeded) {
      content = [notice("key", "This collector needs an API key to show its data.")];
      askForKey(error.wrongKey);
    } else if (error instanceof NotAvailable) {
      content = [notice("unavailable", `Not available: this collector does not serve ${error.path} (it answered 404). Upgrade the collector to see this view.`)];
    } else {
      content = [notice("error", `Could not load this view: ${error.message}`)];
    }
  }
  if (ticket !== shown) return; // another view was asked for meanwhile
  main.replaceChildren(h("h2", {}, view.title), ...content);
  main.setAttribute("aria-busy", "false");
  main.dataset.view = name;
  main.dataset.shown = String(ticket); // tells a watcher (the browser test) that a new rendering is done
  document.getElementById("forget-key").hidden = !storedKey();
}

document.getElementById("key-form").addEventListener("submit", () => {
  storeKey(document.getElementById("key-input").value.trim());
  document.getElementById("key-input").value = "";
  show();
});
document.getElementById("forget-key").addEventListener("click", () => {
  storeKey(null);
  show();
});
document.getElementById("refresh").addEventListener("click", show);
window.addEventListener("hashchange", () => {
  show();
  main.focus();
});
show();
