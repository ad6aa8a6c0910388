// The playground's wiring: the key, the create form, the video panel and the gallery.

import { Api, Links } from "./api.js";
import { clearErrors, showError } from "./fields.js";
import { cardOf, estimateCost, formatCost } from "./format.js";
import { Gallery } from "./gallery.js";
import { JobView } from "./job.js";

const KEY_STORAGE = "videos-api.key";
const $ = (id) => document.getElementById(id);

async function loadConfig() {
  const response = await fetch("/playground/config.json");
  return response.json();
}

// The key field starts from local storage, else the key serve handed over; a new key is remembered.
function setUpKey(input, initial, onChange) {
  input.value = localStorage.getItem(KEY_STORAGE) || initial || "";
  const save = () => {
    localStorage.setItem(KEY_STORAGE, input.value.trim());
    onChange();
  };
  input.addEventListener("change", save);
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  const toggle = $("show-key");
  toggle.addEventListener("click", () => {
    const shown = input.type === "text";
    input.type = shown ? "password" : "text";
    toggle.textContent = shown ? "Show" : "Hide";
    toggle.setAttribute("aria-pressed", String(!shown));
  });
}

function showBanner(error) {
  const banner = $("banner");
  banner.hidden = error === null;
  if (error === null) return;
  banner.textContent =
    error.status === 401 ? `The API refused this key: ${error.message} Enter a valid key above.` : error.message;
}

// Each model's card from GET /v1/videos/models: its lengths, sizes, prompt limit, extensions and prices.
// The page has no copy of them: they are asked for again when the key changes.
async function loadCards(api, cards) {
  const listed = await api.models();
  cards.clear();
  for (const card of listed.data) cards.set(card.id, card);
}

function setUpCreateForm(cards, api, onCreated) {
  const form = $("create-form");
  const prompt = $("prompt");
  const count = $("prompt-count");
  const reference = $("input_reference");
  const clearReference = $("clear-reference");
  const estimate = $("estimate");
  const submit = $("create-submit");
  const formError = $("create-error");
  const model = $("model");
  let maxPromptChars = null;

  const choose = (select, values, chosen, label) => {
    select.replaceChildren(...values.map((value) => new Option(label(value), value)));
    select.value = values.includes(chosen) ? chosen : values[0];
  };
  const applyModel = () => {
    const card = cards.get(model.value);
    if (!card) return;
    choose($("seconds"), card.seconds, $("seconds").value, (s) => `${s} s`);
    choose($("size"), card.sizes, $("size").value, (s) => s.replace("x", "×"));
    maxPromptChars = card.max_prompt_chars;
  };
  model.addEventListener("change", applyModel);

  const update = () => {
    const length = [...prompt.value].length; // characters, as the API counts them
    count.textContent = maxPromptChars === null ? `${length}` : `${length} / ${maxPromptChars}`;
    count.classList.toggle("over", maxPromptChars !== null && length > maxPromptChars);
    const card = cardOf(cards, model.value);
    const cost = card ? estimateCost(card, $("size").value, $("seconds").value) : null;
    estimate.textContent = `≈ ${formatCost(cost)}`;
    clearReference.hidden = reference.files.length === 0;
  };
  // Called once the cards arrive (again after the key changes).
  const refresh = () => {
    const chosen = model.value;
    model.replaceChildren(...[...cards.keys()].map((name) => new Option(name, name)));
    if (cards.has(chosen)) model.value = chosen;
    applyModel();
    update();
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  clearReference.addEventListener("click", () => {
    reference.value = "";
    update();
    reference.focus();
  });
  update();
  submit.disabled = false;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, formError);
    submit.disabled = true;
    submit.textContent = "Creating…";
    try {
      const fields = { prompt: prompt.value, model: model.value, seconds: $("seconds").value, size: $("size").value };
      onCreated(await api.create(fields, reference.files[0]));
    } catch (error) {
      showError(form, formError, error);
    } finally {
      submit.disabled = false;
      submit.textContent = "Generate";
    }
  });
  return refresh;
}

async function main() {
  const config = await loadConfig();
  const keyInput = $("api-key");
  const api = new Api(() => keyInput.value.trim());
  const links = new Links(api);
  const cards = new Map();
  // The panel and the gallery call each other back only after both exist.
  const job = new JobView($("job"), {
    api,
    links,
    cards,
    dialog: $("confirm-delete"),
    onChange: (video) => gallery.upsert(video),
    onCreated: (video) => gallery.upsert(video),
    onDeleted: (id) => gallery.remove(id),
  });
  const gallery = new Gallery(document.querySelector(".gallery"), {
    api,
    links,
    onOpen: (video) => job.show(video, { focus: true }),
    onLoad: showBanner,
  });
  const refreshForm = setUpCreateForm(cards, api, (video) => {
    showBanner(null);
    gallery.upsert(video);
    job.show(video, { focus: true });
  });
  // A refused key leaves the form without models; the banner says why.
  const reloadCards = () =>
    loadCards(api, cards)
      .then(refreshForm)
      .catch(() => {});
  setUpKey(keyInput, config.apiKey, () => {
    links.clear();
    job.clear();
    reloadCards();
    gallery.reload();
  });
  await reloadCards();
  await gallery.reload();
  document.body.dataset.ready = "true";
}

main();
