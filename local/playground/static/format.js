// How videos read on the page: their settings, estimated cost and age.

const SIZE_LABELS = { "720x1280": "720×1280", "1280x720": "1280×720", "1024x1792": "1024×1792", "1792x1024": "1792×1024" };

// USD for a video not made yet, from its model's card (GET /v1/videos/models): the size's own price,
// else the model's. A video once made carries the service's own estimate (`estimated_cost_usd`).
export function estimateCost(card, size, seconds) {
  if (!card) return null;
  const perSecond = card.prices_by_size[size] !== undefined ? card.prices_by_size[size] : card.price_per_second;
  return Number(perSecond) * Number(seconds);
}

export function videoCost(video) {
  return video.estimated_cost_usd === undefined || video.estimated_cost_usd === null
    ? null
    : Number(video.estimated_cost_usd);
}

export function formatCost(usd) {
  return usd === null ? "cost unknown" : `$${usd.toFixed(usd < 0.1 ? 3 : 2)}`;
}

// A video's model card: its own, or its base model's for a dated snapshot (sora-2-2025-10-06).
export function cardOf(cards, model) {
  if (cards.has(model)) return cards.get(model);
  return [...cards.values()].find((card) => model.startsWith(`${card.id}-`)) || null;
}

export function describe(video) {
  return `${video.model} · ${video.seconds} s · ${SIZE_LABELS[video.size] || video.size}`;
}

export function age(createdAt, now = Date.now() / 1000) {
  const seconds = Math.max(0, Math.round(now - createdAt));
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

export const STATUS_LABELS = {
  queued: "Queued",
  in_progress: "Generating",
  completed: "Completed",
  failed: "Failed",
};

export function isTerminal(video) {
  return video.status === "completed" || video.status === "failed";
}
