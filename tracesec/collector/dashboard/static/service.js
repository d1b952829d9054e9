// Views that show one service at a time (actors, API flow): a picker above the content, remembered
// while the page is open.

import { serviceNames } from "./api.js";
import { h, notice } from "./dom.js";

let chosen = null;

// contentFor(service) -> Promise of the view's content for that service.
export async function perService(contentFor) {
  const names = await serviceNames();
  if (!names.length) return [notice("empty", "No service reported yet.")];
  if (!names.includes(chosen)) chosen = names[0];
  const slot = h("div", { class: "service-content" });
  const select = h("select", { id: "service-picker" }, names.map((name) => h("option", { value: name, selected: name === chosen }, name)));
  async function draw(service) {
    chosen = service;
    try {
      slot.replaceChildren(...(await contentFor(service)));
    } catch (error) {
      slot.replaceChildren(notice("error", `Could not load ${service}: ${error.message}`));
    }
  }
  select.addEventListener("change", () => draw(select.value));
  slot.replaceChildren(...(await contentFor(chosen)));
  return [h("p", { class: "service-picker" }, h("label", { for: "service-picker" }, "Service "), select), slot];
}
