// The public API as the page uses it: every call carries the key; failures arrive as ApiError,
// read from the contract's error body.

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && body.error) || {};
    super(detail.message || (body && body.message) || `The API answered ${status}.`);
    this.status = status;
    this.param = detail.param || null;
    this.code = detail.code || (body && body.error_code) || null;
    this.hint = (body && body.hint) || null;
  }
}

export class Api {
  constructor(key) {
    this.key = key; // a function: the key currently entered
  }

  async request(method, path, { json, form, query } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, value);
    }
    const headers = { Authorization: `Bearer ${this.key()}` };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;
    }
    let response;
    try {
      response = await fetch(url, { method, headers, body });
    } catch {
      throw new ApiError(0, { message: "The API could not be reached. Is serve still running?" });
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { message: text };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  models() {
    return this.request("GET", "/v1/videos/models");
  }

  create({ prompt, model, seconds, size }, reference) {
    if (!reference) return this.request("POST", "/v1/videos", { json: { prompt, model, seconds, size } });
    const form = new FormData();
    form.set("prompt", prompt);
    form.set("model", model);
    form.set("seconds", seconds);
    form.set("size", size);
    form.set("input_reference", reference, reference.name);
    return this.request("POST", "/v1/videos", { form });
  }

  get(id) {
    return this.request("GET", `/v1/videos/${encodeURIComponent(id)}`);
  }

  list(after, limit = 12) {
    return this.request("GET", "/v1/videos", { query: { limit, order: "desc", after } });
  }

  remix(id, prompt) {
    return this.request("POST", `/v1/videos/${encodeURIComponent(id)}/remix`, { json: { prompt } });
  }

  edit(id, prompt) {
    return this.request("POST", "/v1/videos/edits", { json: { prompt, video: { id } } });
  }

  extend(id, prompt, seconds) {
    return this.request("POST", "/v1/videos/extensions", { json: { prompt, seconds, video: { id } } });
  }

  remove(id) {
    return this.request("DELETE", `/v1/videos/${encodeURIComponent(id)}`);
  }

  link(id, variant) {
    return this.request("GET", `/v1/videos/${encodeURIComponent(id)}/content`, {
      query: { variant, redirect: "false" },
    });
  }
}

// Download links, kept until shortly before they expire.
const LINK_MARGIN_SECONDS = 60;

export class Links {
  constructor(api) {
    this.api = api;
    this.cache = new Map();
  }

  async get(id, variant) {
    const key = `${id}/${variant}`;
    const cached = this.cache.get(key);
    if (cached && cached.expires_at - Date.now() / 1000 > LINK_MARGIN_SECONDS) return cached;
    const link = await this.api.link(id, variant);
    this.cache.set(key, link);
    return link;
  }

  forget(id) {
    for (const key of this.cache.keys()) if (key.startsWith(`${id}/`)) this.cache.delete(key);
  }

  clear() {
    this.cache.clear();
  }
}
