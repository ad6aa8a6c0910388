// How videos read on the page: their settings, estimated cost and age.

const SIZE_LABELS = { "720x1280": "720×1280", "1280x720": "1280×720", "1024x1792": "1024×1792", "1792x1024": "1792×1024" };

// USD for a video, from the price table the service uses: the size's own row, else the model's "*".
export function estimateCost(prices, model, size, seconds) {
  const rows = prices[model];
  if (!rows) return null;
  const perSecond = rows[size] !== undefined ? rows[size] : rows["*"];
  if (perSecond === undefined) return null;
  return Number(perSecond) * Number(seconds);
}

export function formatCost(usd) {
  return usd === null ? "cost unknown" : `$${usd.toFixed(usd < 0.1 ? 3 : 2)}`;
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
