// The edit form: pick the part of the clip on its timeline, count prompt characters, and keep
// the cost estimate in step with the choices. The form works without it.
const form = document.getElementById("take-form");
const video = document.getElementById("window-video");
// namedItem: form.elements.length is the number of fields, not the field called "length".
const field = (name) => form.elements.namedItem(name);
const start = field("start");
const length = field("length");
const duration = Number(form.dataset.duration) || 0;
const prices = JSON.parse(form.dataset.prices);
const windowBox = document.getElementById("timeline-window");
const summary = document.getElementById("window-summary");

function windowValues() {
  const s = Math.max(0, Number(start.value) || 0);
  const l = Math.min(10, Math.max(2, Number(length.value) || 0));
  return { s, l, end: Math.min(duration, s + l) };
}

function drawWindow() {
  const { s, end } = windowValues();
  if (duration > 0) {
    windowBox.style.left = `${(s / duration) * 100}%`;
    windowBox.style.width = `${((end - s) / duration) * 100}%`;
  }
  summary.textContent = `Editing ${s.toFixed(1)} s to ${end.toFixed(1)} s (${(end - s).toFixed(1)} s) of ${duration.toFixed(1)} s.`;
  updateCost();
}

// Money as studio/templatetags/money.py writes it (usd_estimate_for): change the two together.
function usdEstimate(amount) {
  if (form.dataset.provider === "local") return "free (local engine)";
  if (amount === 0) return "0.00 USD";
  if (amount < 0.005) return "< 0.01 USD (estimate)";
  // Round half up on the decimal value, as the server does: 0.345 is 0.34499... in binary.
  const cents = Math.round(Number((amount * 100).toPrecision(12)));
  const shown = (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `about ${shown} USD (estimate)`;
}

function updateCost() {
  const { l } = windowValues();
  const chosen = Number(field("duration").value) || 0;
  const seconds = chosen || l;
  const price = Number(prices[field("resolution").value] || 0);
  document.getElementById("cost").textContent = `${usdEstimate(seconds * price)} for ${seconds.toFixed(1)} s at ${field("resolution").value}`;
}

function countPrompt() {
  // Characters as people count them (code points), not bytes or UTF-16 units.
  const count = [...field("prompt").value].length;
  document.getElementById("prompt-count").textContent = `${count} / 5000 characters`;
}

document.getElementById("window-play").addEventListener("click", () => {
  const { s, end } = windowValues();
  video.currentTime = s;
  video.play();
  const stop = () => {
    if (video.currentTime >= end) {
      video.pause();
      video.removeEventListener("timeupdate", stop);
    }
  };
  video.addEventListener("timeupdate", stop);
});

document.getElementById("window-from-player").addEventListener("click", () => {
  const latest = Math.max(0, duration - 2);
  start.value = Math.min(latest, video.currentTime).toFixed(1);
  drawWindow();
});

for (const element of [start, length, field("duration"), field("resolution")]) {
  element.addEventListener("input", drawWindow);
}
field("prompt").addEventListener("input", countPrompt);
drawWindow();
countPrompt();
