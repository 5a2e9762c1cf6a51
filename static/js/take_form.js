// The edit form: pick the part of the clip on its timeline (draggable, keyboard-operable in/out
// handles kept in step with the number fields, over the clip's filmstrip with a ruler under
// it), move on to the next window, count prompt characters, and keep the cost estimate and
// whether it fits the budgets in step with the choices. The form works without it.
import { drawFilmstrip, drawRuler } from "./filmstrip.js";
import { showBudgetFit } from "./budget_fit.js";

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
const picker = document.getElementById("window-picker");
const track = document.getElementById("timeline");
const handleIn = document.getElementById("handle-in");
const handleOut = document.getElementById("handle-out");
const playhead = document.getElementById("timeline-playhead");
const scroller = document.getElementById("timeline-scroll");
const ruler = document.getElementById("timeline-ruler");
const nextButton = document.getElementById("window-next");

// The provider's rules, as the form validates them: a part of 2 to 10 s inside the clip.
const MIN_LENGTH = 2;
const MAX_LENGTH = 10;
const tenth = (value) => Math.round(value * 10) / 10;
const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
// The latest end on the fields' 0.1 s grid that is still inside the clip.
const lastEnd = Math.floor(duration * 10 + 1e-6) / 10;
const percent = (seconds) => `${(clamp(seconds / duration, 0, 1) * 100).toFixed(3)}%`;

const latestStart = Math.max(0, lastEnd - MIN_LENGTH);

// The handles stay on the timeline whatever is typed (1e308 included); the summary says when
// the typed start is outside it, as the server will.
function windowValues() {
  const s = clamp(Number(start.value) || 0, 0, latestStart);
  const l = Math.min(10, Math.max(2, Number(length.value) || 0));
  return { s, l, end: Math.min(duration, s + l) };
}

function startOutside() {
  const typed = Number(start.value);
  return start.value.trim() !== "" && !(Number.isFinite(typed) && typed >= 0 && typed <= latestStart + 1e-6);
}

function setSlider(handle, now, low, high) {
  handle.setAttribute("aria-valuemin", low.toFixed(1));
  handle.setAttribute("aria-valuemax", high.toFixed(1));
  handle.setAttribute("aria-valuenow", now.toFixed(1));
  handle.setAttribute("aria-valuetext", `${now.toFixed(1)} seconds`);
}

function drawWindow() {
  const { s, end } = windowValues();
  if (duration > 0) {
    windowBox.style.left = percent(s);
    windowBox.style.width = percent(end - s);
    handleIn.style.left = percent(s);
    handleOut.style.left = percent(end);
  }
  nextAvailable();
  setSlider(handleIn, s, 0, latestStart);
  setSlider(handleOut, end, Math.min(MIN_LENGTH, lastEnd), lastEnd);
  summary.textContent = startOutside()
    ? `Start between 0 and ${latestStart.toFixed(1)} s: the clip is ${duration.toFixed(1)} s long.`
    : `Editing ${s.toFixed(1)} s to ${end.toFixed(1)} s (${(end - s).toFixed(1)} s) of ${duration.toFixed(1)} s.`;
  updateCost();
}

function seek(seconds) {
  // Show the frame at the point being moved. Before the metadata is in, the browser keeps the
  // time and starts there; while dragging, the newest seek replaces the pending one.
  video.currentTime = seconds;
}

function setWindow(s, end) {
  start.value = s.toFixed(1);
  length.value = tenth(end - s).toFixed(1);
  drawWindow();
}

// Moving one point pushes (or pulls) the other just enough to keep the part 2-10 s long.
function moveIn(value) {
  const s = clamp(tenth(value), 0, latestStart);
  const { end } = windowValues();
  setWindow(s, clamp(end, s + MIN_LENGTH, Math.min(s + MAX_LENGTH, lastEnd)));
  seek(s);
}

function moveOut(value) {
  const end = clamp(tenth(value), Math.min(MIN_LENGTH, lastEnd), lastEnd);
  const { s } = windowValues();
  const newStart = clamp(s, Math.max(0, end - MAX_LENGTH), Math.max(0, end - MIN_LENGTH));
  setWindow(newStart, end);
  seek(Math.max(newStart, end - 0.05)); // the last frame of the part
}

// The scale: a tenth of a second must be a few pixels even on a phone, so a track narrower than
// that at the clip's length grows and scrolls sideways (the ruler with it).
const NARROW = window.matchMedia("(max-width: 699.98px), (pointer: coarse)");
const PX_PER_SECOND = { narrow: 40, wide: 12 };

function layout() {
  const perSecond = NARROW.matches ? PX_PER_SECOND.narrow : PX_PER_SECOND.wide;
  picker.style.setProperty("--track-width", `${Math.ceil(duration * perSecond)}px`);
  drawFilmstrip(picker.querySelector(".timeline-film"), picker.dataset, duration);
  drawRuler(ruler, duration);
}

// Keep the part in sight when it moves by a key or a button, not while a hand drags it.
function reveal() {
  if (scroller.scrollWidth <= scroller.clientWidth) return;
  const { s, end } = windowValues();
  const perSecond = track.clientWidth / duration;
  const [left, right] = [s * perSecond, end * perSecond];
  const view = scroller.clientWidth - 48; // less the padding that keeps the end handles whole
  if (left < scroller.scrollLeft || right > scroller.scrollLeft + view) {
    scroller.scrollLeft = Math.max(0, (left + right) / 2 - view / 2);
  }
}

function timeAt(clientX) {
  const box = track.getBoundingClientRect();
  return clamp((clientX - box.left) / box.width, 0, 1) * duration;
}

const handles = [
  { element: handleIn, move: moveIn, value: () => windowValues().s },
  { element: handleOut, move: moveOut, value: () => windowValues().end },
];

function drag(handle, event, offset) {
  handle.element.focus();
  handle.element.setPointerCapture(event.pointerId);
  const follow = (moved) => handle.move(timeAt(moved.clientX) - offset);
  const stop = () => {
    handle.element.removeEventListener("pointermove", follow);
    handle.element.removeEventListener("lostpointercapture", stop);
  };
  handle.element.addEventListener("pointermove", follow);
  handle.element.addEventListener("lostpointercapture", stop);
}

track.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  const grabbed = handles.find((handle) => handle.element === event.target);
  // A finger on the strip between the handles scrolls it; only a handle is taken by touch.
  if (!grabbed && event.pointerType === "touch") return;
  event.preventDefault();
  const at = timeAt(event.clientX);
  if (grabbed) {
    drag(grabbed, event, at - grabbed.value()); // no jump by where on the handle it was caught
    return;
  }
  // A press on the bar moves the nearer point there, and keeps following the pointer.
  const { s, end } = windowValues();
  const nearer = Math.abs(at - s) <= Math.abs(at - end) ? handles[0] : handles[1];
  nearer.move(at);
  drag(nearer, event, 0);
});

for (const handle of handles) {
  handle.element.addEventListener("keydown", (event) => {
    const value = handle.value();
    const step = event.shiftKey ? 1 : 0.1;
    const low = Number(handle.element.getAttribute("aria-valuemin"));
    const high = Number(handle.element.getAttribute("aria-valuemax"));
    const targets = {
      ArrowLeft: value - step,
      ArrowDown: value - step,
      ArrowRight: value + step,
      ArrowUp: value + step,
      PageDown: value - 1,
      PageUp: value + 1,
      Home: low,
      End: high,
    };
    if (!(event.key in targets)) return;
    event.preventDefault();
    handle.move(targets[event.key]);
    reveal();
  });
}

function drawPlayhead() {
  if (duration > 0) playhead.style.left = percent(video.currentTime);
}

// Money as studio/templatetags/money.py writes it (usd_estimate_for): change the two together.
function usdEstimate(amount) {
  if (form.dataset.bills === "false") return "free (local engine)";
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
  const resolution = field("resolution").value;
  document.getElementById("cost").textContent = `${usdEstimate(seconds * price)} for ${seconds.toFixed(1)} s at ${resolution}`;
  const advice = resolution === "720P" ? "Choose a shorter part" : "Choose 720P or a shorter part";
  showBudgetFit(seconds * price, { what: "this take's estimate", advice });
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

// The part of the same length right after this one (shorter where the clip ends); the prompt
// and every other choice of the form stay as they are.
function nextWindow() {
  const { s, end } = windowValues();
  if (end >= lastEnd - 0.05) return;
  const from = Math.min(end, latestStart);
  setWindow(from, Math.min(lastEnd, from + (end - s)));
  seek(from);
  reveal();
}

function nextAvailable() {
  nextButton.disabled = windowValues().end >= lastEnd - 0.05;
}

nextButton.addEventListener("click", nextWindow);

document.getElementById("window-from-player").addEventListener("click", () => {
  const latest = Math.max(0, duration - 2);
  start.value = Math.min(latest, video.currentTime).toFixed(1);
  drawWindow();
});

for (const element of [start, length, field("duration"), field("resolution")]) {
  element.addEventListener("input", drawWindow);
}
start.addEventListener("input", () => seek(windowValues().s));
video.addEventListener("timeupdate", drawPlayhead);
video.addEventListener("seeked", drawPlayhead);
field("prompt").addEventListener("input", countPrompt);
// Handles only make sense on a clip long enough to edit; the number fields always work.
picker.hidden = lastEnd < MIN_LENGTH;
nextButton.hidden = lastEnd < MIN_LENGTH;
if (!picker.hidden) {
  layout();
  new ResizeObserver(() => layout()).observe(scroller);
  NARROW.addEventListener("change", layout);
}
drawWindow();
reveal();
drawPlayhead();
countPrompt();
