// The key owner's videos, newest first, a page at a time. Running videos are refreshed until they
// end; hovering a finished one scrubs through its spritesheet.

import { STATUS_LABELS, age, describe, formatCost, isTerminal, videoCost } from "./format.js";

const PAGE_SIZE = 12;
const REFRESH_INTERVAL_MS = 2000;
// The spritesheet is a grid of frames from the whole clip, in order, left to right and top to bottom.
const SPRITE_COLUMNS = 4;
const SPRITE_ROWS = 4;

export class Gallery {
  constructor(root, { api, links, onOpen, onLoad }) {
    this.api = api;
    this.links = links;
    this.onOpen = onOpen;
    this.onLoad = onLoad; // called with null after a page loads, or with the error that stopped it
    this.list = root.querySelector("#cards");
    this.moreButton = root.querySelector("#more");
    this.empty = root.querySelector("#gallery-empty");
    this.error = root.querySelector("#gallery-error");
    this.videos = new Map(); // id -> video, for the cards on the page
    this.lastId = null;
    this.loading = 0; // bumped by each reload, so a page from an older one is dropped
    this.ticking = false;
    root.querySelector("#refresh").addEventListener("click", () => this.reload());
    this.moreButton.addEventListener("click", () => this.more());
    setInterval(() => this.tick(), REFRESH_INTERVAL_MS);
  }

  async reload() {
    const loading = ++this.loading;
    this.error.textContent = "";
    let page;
    try {
      page = await this.api.list(undefined, PAGE_SIZE);
    } catch (error) {
      if (loading === this.loading) this.fail(error);
      return;
    }
    if (loading !== this.loading) return;
    this.onLoad(null);
    this.videos.clear();
    this.list.replaceChildren();
    this.append(page);
  }

  async more() {
    const loading = this.loading;
    this.moreButton.disabled = true;
    try {
      const page = await this.api.list(this.lastId, PAGE_SIZE);
      if (loading === this.loading) this.append(page);
    } catch (error) {
      this.fail(error);
    } finally {
      this.moreButton.disabled = false;
    }
  }

  append(page) {
    for (const video of page.data) {
      if (!this.videos.has(video.id)) this.list.append(this.card(video));
    }
    if (page.last_id) this.lastId = page.last_id;
    this.moreButton.hidden = !page.has_more;
    this.empty.hidden = this.videos.size > 0;
  }

  fail(error) {
    this.error.textContent = error.message;
    this.onLoad(error);
  }

  // A new or changed video: its card is replaced in place, or a new one goes first.
  upsert(video) {
    const old = this.list.querySelector(`[data-id="${CSS.escape(video.id)}"]`);
    const card = this.card(video);
    if (old) old.replaceWith(card);
    else this.list.prepend(card);
    this.empty.hidden = true;
  }

  remove(id) {
    this.videos.delete(id);
    this.list.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
    this.empty.hidden = this.videos.size > 0;
  }

  card(video) {
    this.videos.set(video.id, video);
    const item = element("li", "card");
    item.dataset.id = video.id;
    item.dataset.status = video.status;
    const open = element("button", "card-open");
    open.type = "button";
    open.setAttribute("aria-label", `Open ${video.id}: ${video.prompt || ""}`);
    open.addEventListener("click", () => this.onOpen(this.videos.get(video.id) || video));

    const thumb = element("div", "thumb");
    const [width, height] = video.size.split("x").map(Number);
    thumb.style.aspectRatio = `${width} / ${height}`;
    const status = element("span", "status", STATUS_LABELS[video.status] || video.status);
    status.dataset.status = video.status;
    thumb.append(status);
    if (video.status === "completed") this.showThumbnail(video, thumb);
    else if (!isTerminal(video)) {
      const bar = element("div", "mini-progress");
      bar.style.setProperty("--progress", `${video.progress}%`);
      thumb.append(bar);
    }

    const body = element("div", "card-body");
    body.append(
      element("p", "card-prompt", video.prompt || "(no prompt)"),
      element("p", "muted", describe(video)),
    );
    const cost = formatCost(videoCost(video));
    const facts = element("p", "muted");
    facts.append(`≈ ${cost} · `, element("time", "age", age(video.created_at)));
    facts.lastChild.dateTime = new Date(video.created_at * 1000).toISOString();
    facts.lastChild.dataset.createdAt = String(video.created_at);
    body.append(facts);
    if (video.error) body.append(element("p", "card-error", `${video.error.code}: ${video.error.message}`));

    open.append(thumb, body);
    item.append(open);
    return item;
  }

  async showThumbnail(video, thumb) {
    let link;
    try {
      link = await this.links.get(video.id, "thumbnail");
    } catch {
      thumb.classList.add("missing");
      return;
    }
    const image = element("img");
    image.alt = "";
    image.src = link.url;
    thumb.prepend(image);
    thumb.addEventListener("pointerenter", () => this.loadSprites(video, thumb), { once: true });
    thumb.addEventListener("pointermove", (event) => scrub(thumb, event));
    thumb.addEventListener("pointerleave", () => thumb.classList.remove("scrubbing"));
  }

  async loadSprites(video, thumb) {
    try {
      const link = await this.links.get(video.id, "spritesheet");
      thumb.style.backgroundImage = `url("${link.url}")`;
      thumb.classList.add("has-sprites");
    } catch {
      // No spritesheet: the thumbnail stays.
    }
  }

  // Running videos are fetched again until they end; ages move on.
  async tick() {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.refreshRunning();
    } finally {
      this.ticking = false;
    }
  }

  async refreshRunning() {
    for (const time of this.list.querySelectorAll("time.age")) {
      time.textContent = age(Number(time.dataset.createdAt));
    }
    const running = [...this.videos.values()].filter((video) => !isTerminal(video));
    for (const video of running) {
      try {
        const fresh = await this.api.get(video.id);
        if (this.videos.has(fresh.id) && changed(video, fresh)) this.upsert(fresh);
      } catch (error) {
        if (error.status === 404) this.remove(video.id);
      }
    }
  }
}

function changed(before, after) {
  return before.status !== after.status || before.progress !== after.progress;
}

function scrub(thumb, event) {
  if (!thumb.classList.contains("has-sprites")) return;
  const box = thumb.getBoundingClientRect();
  const share = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 0.9999);
  const frame = Math.floor(share * SPRITE_COLUMNS * SPRITE_ROWS);
  const column = frame % SPRITE_COLUMNS;
  const row = Math.floor(frame / SPRITE_COLUMNS);
  thumb.style.backgroundPosition = `${(column / (SPRITE_COLUMNS - 1)) * 100}% ${(row / (SPRITE_ROWS - 1)) * 100}%`;
  thumb.dataset.frame = String(frame);
  thumb.classList.add("scrubbing");
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
