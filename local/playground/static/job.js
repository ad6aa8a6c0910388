// One video up close: its status and progress while it runs, then the video itself, its downloads,
// remix, edit, extend and delete.

import { clearErrors, showError } from "./fields.js";
import { STATUS_LABELS, cardOf, describe, formatCost, isTerminal, videoCost } from "./format.js";

const POLL_INTERVAL_MS = 1000;
const VARIANTS = ["video", "thumbnail", "spritesheet"];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function setLink(anchor, link) {
  anchor.href = link.url;
  anchor.dataset.expiresAt = String(link.expires_at);
}

function confirmDelete(dialog, id) {
  return new Promise((resolve) => {
    dialog.querySelector("#confirm-id").textContent = id;
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"), { once: true });
    dialog.showModal();
  });
}

export class JobView {
  constructor(root, { api, links, cards, dialog, onChange, onCreated, onDeleted }) {
    this.root = root;
    this.api = api;
    this.links = links;
    this.cards = cards; // model -> its card from GET /v1/videos/models
    this.dialog = dialog;
    this.onChange = onChange;
    this.onCreated = onCreated;
    this.onDeleted = onDeleted;
    this.video = null;
    this.generation = 0; // bumped whenever another video is shown, so an old poll loop stops
    const $ = (id) => root.querySelector(`#${id}`);
    this.el = {
      empty: $("job-empty"),
      body: $("job-body"),
      id: $("job-id"),
      status: $("job-status"),
      prompt: $("job-prompt"),
      meta: $("job-meta"),
      progress: $("job-progress"),
      progressText: $("job-progress-text"),
      error: $("job-error"),
      player: $("job-video"),
      done: $("job-done"),
      remixForm: $("remix-form"),
      remixPrompt: $("remix-prompt"),
      remixError: $("remix-error"),
      extendSeconds: $("extend-seconds"),
      deleteButton: $("delete-button"),
    };
    this.downloads = Object.fromEntries(VARIANTS.map((variant) => [variant, $(`download-${variant}`)]));
    this.el.remixForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.derive(event.submitter?.value || "remix");
    });
    this.el.deleteButton.addEventListener("click", () => this.delete());
    for (const anchor of Object.values(this.downloads)) {
      anchor.addEventListener("click", (event) => this.freshenLink(event, anchor));
    }
  }

  show(video, { focus = false } = {}) {
    const generation = ++this.generation;
    this.video = video;
    this.resetPlayer();
    for (const anchor of Object.values(this.downloads)) {
      anchor.removeAttribute("href");
      delete anchor.dataset.expiresAt;
    }
    clearErrors(this.el.remixForm, this.el.remixError);
    this.el.error.textContent = "";
    this.render(video);
    this.el.empty.hidden = true;
    this.el.body.hidden = false;
    if (focus) this.root.focus();
    if (video.status === "completed") this.loadMedia(video, generation);
    else if (!isTerminal(video)) this.follow(generation);
  }

  clear() {
    this.generation++;
    this.video = null;
    this.resetPlayer();
    this.el.body.hidden = true;
    this.el.empty.hidden = false;
  }

  // Stops the video shown before, and empties the player until the next one's link arrives.
  resetPlayer() {
    this.el.player.removeAttribute("src");
    this.el.player.load();
  }

  render(video) {
    const el = this.el;
    el.id.textContent = video.id;
    el.status.textContent = STATUS_LABELS[video.status] || video.status;
    el.status.dataset.status = video.status;
    el.prompt.textContent = video.prompt || "";
    const remixed = video.remixed_from_video_id ? ` · remix of ${video.remixed_from_video_id}` : "";
    el.meta.textContent = `${describe(video)} · ≈ ${formatCost(videoCost(video))}${remixed}`;
    this.offerExtensions(video);
    el.progress.setAttribute("aria-valuenow", String(video.progress));
    el.progress.style.setProperty("--progress", `${video.progress}%`);
    el.progress.dataset.status = video.status;
    el.progressText.textContent =
      video.status === "queued" ? "Waiting for the upstream…" : video.status === "in_progress" ? `${video.progress} %` : "";
    el.error.textContent = video.error ? `${video.error.code}: ${video.error.message}` : el.error.textContent;
    el.done.hidden = video.status !== "completed";
    el.player.hidden = video.status !== "completed";
  }

  // The lengths an extension of this video's model may add, as its card lists them.
  offerExtensions(video) {
    const select = this.el.extendSeconds;
    const lengths = cardOf(this.cards, video.model)?.extension_seconds || [];
    const chosen = select.value;
    select.replaceChildren(...lengths.map((s) => new Option(`${s} s`, s)));
    if (lengths.includes(chosen)) select.value = chosen;
    this.root.querySelector("#extend-submit").disabled = lengths.length === 0;
  }

  async follow(generation) {
    while (generation === this.generation) {
      await sleep(POLL_INTERVAL_MS);
      if (generation !== this.generation) return;
      let video;
      try {
        video = await this.api.get(this.video.id);
      } catch (error) {
        if (generation !== this.generation) return;
        if (error.status === 404) {
          this.el.error.textContent = error.message;
          return;
        }
        this.el.progressText.textContent = `${error.message} Retrying…`;
        continue;
      }
      if (generation !== this.generation) return;
      this.video = video;
      this.render(video);
      this.onChange(video);
      if (isTerminal(video)) {
        if (video.status === "completed") await this.loadMedia(video, generation);
        return;
      }
    }
  }

  async loadMedia(video, generation) {
    try {
      const links = await Promise.all(VARIANTS.map((variant) => this.links.get(video.id, variant)));
      if (generation !== this.generation) return;
      this.el.player.src = links[0].url;
      VARIANTS.forEach((variant, i) => setLink(this.downloads[variant], links[i]));
    } catch (error) {
      if (generation === this.generation) this.el.error.textContent = error.message;
    }
  }

  // A download link that has expired (or is about to) is replaced before the browser follows it.
  async freshenLink(event, anchor) {
    if (Number(anchor.dataset.expiresAt) - Date.now() / 1000 > 5) return;
    event.preventDefault();
    try {
      setLink(anchor, await this.links.get(this.video.id, anchor.dataset.variant));
      anchor.click();
    } catch (error) {
      this.el.error.textContent = error.message;
    }
  }

  /** A new video from this one: a remix, an edit, or an extension by the chosen seconds. */
  async derive(kind) {
    const { remixForm, remixError, remixPrompt, extendSeconds } = this.el;
    const buttons = remixForm.querySelectorAll("button[type=submit]");
    clearErrors(remixForm, remixError);
    for (const button of buttons) button.disabled = true;
    try {
      const id = this.video.id;
      const prompt = remixPrompt.value;
      const video = await (kind === "edit"
        ? this.api.edit(id, prompt)
        : kind === "extend"
          ? this.api.extend(id, prompt, extendSeconds.value)
          : this.api.remix(id, prompt));
      remixPrompt.value = "";
      this.onCreated(video);
      this.show(video, { focus: true });
    } catch (error) {
      showError(remixForm, remixError, error);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }

  async delete() {
    const video = this.video;
    if (!(await confirmDelete(this.dialog, video.id))) return;
    this.el.deleteButton.disabled = true;
    try {
      await this.api.remove(video.id);
      this.links.forget(video.id);
      if (this.video === video) this.clear();
      this.onDeleted(video.id);
    } catch (error) {
      this.el.error.textContent = error.message;
    } finally {
      this.el.deleteButton.disabled = false;
    }
  }
}
