// Every read of the collector's JSON API goes through here: the bearer key from localStorage, and two
// answers the views handle specially: 404 (endpoint not on this collector) and 401 (key needed).

const KEY_STORAGE = "tracesec.apiKey";

export class NotAvailable extends Error {
  constructor(path) {
    super(`${path} is not available on this collector`);
    this.path = path;
  }
}

export class KeyNeeded extends Error {
  constructor(wrongKey) {
    super(wrongKey ? "the API key was refused" : "this collector needs an API key");
    this.wrongKey = wrongKey;
  }
}

export function storedKey() {
  return localStorage.getItem(KEY_STORAGE);
}

export function storeKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

export async function getJson(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const reply = await fetch(url, { headers });
  if (reply.status === 404) throw new NotAvailable(path);
  if (reply.status === 401) throw new KeyNeeded(Boolean(key));
  if (!reply.ok) {
    let message = `HTTP ${reply.status}`;
    try {
      message = (await reply.json()).error || message;
    } catch {
      // not JSON: keep the status
    }
    throw new Error(`${path}: ${message}`);
  }
  return reply.json();
}

// Follow next_cursor for at most maxPages pages; the items of every page, in order.
export async function getPages(path, listName, params = {}, maxPages = 5) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const reply = await getJson(path, { ...params, cursor });
    items.push(...(reply[listName] || []));
    cursor = reply.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// The services the collector has heard from, most recently active first.
export async function serviceNames() {
  const reply = await getJson("/v1/instances");
  return [...new Set((reply.instances || []).map((instance) => instance.service))];
}
