// The cut page's timeline, drawn from the data attributes the page carries: the filmstrip behind
// the track (drawn by filmstrip.js), the shot cuts, the ruler, and the windows, each placed by
// its share of the clip's length.
//
// For editors the windows are edited in place: drag a window to move it, an edge to trim it,
// the empty track to draw a new one (mouse, pen or finger: pointer events); or Tab to a window
// or an edge (sliders) and use the arrow keys, Enter to save and Escape to put it back. Edges
// snap to the source's frames (the server snaps the same way) and to shot cuts a few pixels
// away, stop at the neighbouring windows and keep a window 2-10 s long. A change is saved with
// the same endpoints the table's forms use, asking for JSON; a refusal is shown as the server
// words it and the window goes back. The table below holds every control too, so the page
// works without this script.
import { drawFilmstrip } from "./filmstrip.js";
import { getHTML, postFields } from "./net.js";

let timeline = null; // the #cut-timeline element, once started
let status = null; // its live region

const MIN_SECONDS = 2;
const MAX_SECONDS = 10;
const SNAP_PX = 8; // a shot cut this close (on screen) catches an edge
const DRAG_PX = 4; // less than this is a tap (select), not a drag
const EPSILON = 1e-6;

const duration = () => Number(timeline.dataset.duration) || 1;
const track = () => timeline.querySelector(".cut-track");
const share = (seconds) => `${Math.min(100, Math.max(0, (Number(seconds) / duration()) * 100))}%`;

// -- time: frames and timecodes --------------------------------------------------------------

function rate() {
  const [num, den] = (timeline.dataset.rate || "25/1").split("/").map(Number);
  return { num: num || 25, den: den || 1 };
}
const frameOf = (seconds) => (seconds * rate().num) / rate().den;
const timeOfFrame = (index) => (index * rate().den) / rate().num;
const lastTime = () => timeOfFrame(Math.round(frameOf(duration())));
const onFrame = (seconds) => timeOfFrame(Math.round(frameOf(seconds)));
const frameAtOrAfter = (seconds) => timeOfFrame(Math.ceil(frameOf(seconds) - EPSILON));
const frameAtOrBefore = (seconds) => timeOfFrame(Math.floor(frameOf(seconds) + EPSILON));

// As the server writes them (studio.core.formatting.timecode): 0:04.00, 1:02:03.50.
export function timecode(seconds) {
  const hundredths = Math.round(Math.max(0, seconds) * 100);
  const [whole, hundredth] = [Math.floor(hundredths / 100), hundredths % 100];
  const [minutes, second] = [Math.floor(whole / 60), whole % 60];
  const [hours, minute] = [Math.floor(minutes / 60), minutes % 60];
  const two = (n) => String(n).padStart(2, "0");
  const tail = `${two(second)}.${two(hundredth)}`;
  return hours ? `${hours}:${two(minute)}:${tail}` : `${minutes}:${tail}`;
}
const length = (span) => `${(span.end - span.start).toFixed(2)} s`;

// -- drawing -----------------------------------------------------------------------------------

const windows = () => [...timeline.querySelectorAll(".cut-window:not(.cut-window-draft)")];
const spanOf = (win) => ({ start: Number(win.dataset.start), end: Number(win.dataset.end) });
const shots = () => [...timeline.querySelectorAll(".cut-shot")].map((mark) => Number(mark.dataset.at));

function paint(win, span, { editing = false, limit = "" } = {}) {
  win.style.left = share(span.start);
  win.style.width = `calc(${share(span.end)} - ${share(span.start)})`;
  win.classList.toggle("is-editing", editing);
  win.classList.toggle("is-at-limit", Boolean(limit));
  const label = win.querySelector(".cut-window-length");
  if (label) label.textContent = editing ? `${length(span)}${limit ? ` · ${limit}` : ""}` : "";
  const body = win.querySelector(".cut-window-body[role='slider']");
  if (!body) return;
  const number = win.dataset.number;
  const { lo, hi } = bounds(win);
  body.setAttribute("aria-valuemin", lo.toFixed(2));
  body.setAttribute("aria-valuemax", Math.max(lo, hi - (span.end - span.start)).toFixed(2));
  body.setAttribute("aria-valuenow", span.start.toFixed(2));
  const stack = win.dataset.stack ? `; ${win.dataset.stack}` : "";
  const unsaved = editing ? "; not saved yet: Enter saves, Escape puts it back" : "";
  body.setAttribute(
    "aria-valuetext",
    `${timecode(span.start)} to ${timecode(span.end)}, ${length(span)}${stack}${unsaved}`,
  );
  body.setAttribute("aria-label", `Window ${number}`);
  const edges = {
    start: [Math.max(lo, span.end - MAX_SECONDS), span.end - MIN_SECONDS, span.start],
    end: [span.start + MIN_SECONDS, Math.min(hi, span.start + MAX_SECONDS), span.end],
  };
  for (const [part, [min, max, now]] of Object.entries(edges)) {
    const edge = win.querySelector(`[data-part='${part}']`);
    if (!edge) continue;
    edge.setAttribute("aria-valuemin", Math.max(0, min).toFixed(2));
    edge.setAttribute("aria-valuemax", Math.max(min, max).toFixed(2));
    edge.setAttribute("aria-valuenow", now.toFixed(2));
    edge.setAttribute("aria-valuetext", `${timecode(now)}; window ${number} ${length(span)}`);
  }
}

function place() {
  for (const win of windows()) paint(win, spanOf(win));
  for (const mark of timeline.querySelectorAll(".cut-shot, .cut-tick")) {
    mark.style.left = share(mark.dataset.at);
  }
  drawTrackFilmstrip();
  timeline.classList.add("cut-timeline-drawn");
}

// The filmstrip behind the track (filmstrip.js, shared with the edit form's window picker).
function drawTrackFilmstrip() {
  drawFilmstrip(timeline.querySelector(".cut-filmstrip"), timeline.dataset, duration(), {
    className: "film-tile cut-film-tile",
  });
}

// -- the rules an edited window keeps -----------------------------------------------------------

// The free stretch around a window (or around a time, for a new one): from the end of the
// window before it to the start of the one after it.
function bounds(win, at = null) {
  const own = win ? spanOf(win) : { start: at, end: at };
  let lo = 0;
  let hi = lastTime();
  for (const other of windows()) {
    if (other === win) continue;
    const span = spanOf(other);
    if (span.end <= own.start + EPSILON) lo = Math.max(lo, span.end);
    else if (span.start >= own.end - EPSILON) hi = Math.min(hi, span.start);
  }
  return { lo, hi };
}

// A dragged edge: onto a shot cut within a few pixels, else onto the nearest frame.
function snap(seconds) {
  const perSecond = track().clientWidth / duration();
  let best = null;
  for (const at of shots()) {
    const away = Math.abs(at - seconds);
    if (away * perSecond <= SNAP_PX && (best === null || away < Math.abs(best - seconds))) best = at;
  }
  return onFrame(best ?? seconds);
}

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

// The window after a change of `part` ("body", "start", "end") to `wanted` (seconds: the new
// start for the body and the start edge, the new end for the end edge), and which limit it met.
function changed(win, origin, part, wanted) {
  const { lo, hi } = bounds(win);
  const size = origin.end - origin.start;
  if (part === "body") {
    const start = clamp(wanted, lo, hi - size);
    const limit = start !== wanted ? "next to a window" : "";
    return { span: { start, end: start + size }, limit };
  }
  if (part === "start") {
    const low = frameAtOrAfter(Math.max(lo, origin.end - MAX_SECONDS));
    const high = frameAtOrBefore(origin.end - MIN_SECONDS);
    if (low > high) return { span: origin, limit: "" };
    const start = clamp(wanted, low, high);
    return { span: { start, end: origin.end }, limit: limitOf(start, wanted, origin.end - start, lo) };
  }
  const low = frameAtOrAfter(origin.start + MIN_SECONDS);
  const high = frameAtOrBefore(Math.min(hi, origin.start + MAX_SECONDS));
  if (low > high) return { span: origin, limit: "" };
  const end = clamp(wanted, low, high);
  return { span: { start: origin.start, end }, limit: limitOf(end, wanted, end - origin.start, hi) };
}

function limitOf(value, wanted, size, neighbour) {
  if (Math.abs(value - wanted) < EPSILON) return "";
  if (size >= MAX_SECONDS - 0.05) return `${MAX_SECONDS} s at most`;
  if (size <= MIN_SECONDS + 0.05) return `${MIN_SECONDS} s at least`;
  return Math.abs(value - neighbour) < EPSILON ? "next to a window" : "";
}

// A new window from `anchor` to `at`, inside the free stretch around the anchor, at most 10 s.
function drawn(anchor, at) {
  const { lo, hi } = bounds(null, anchor);
  let start = clamp(Math.min(anchor, at), lo, hi);
  let end = clamp(Math.max(anchor, at), lo, hi);
  let limit = "";
  if (end - start > MAX_SECONDS) {
    limit = `${MAX_SECONDS} s at most`;
    if (at >= anchor) end = frameAtOrBefore(start + MAX_SECONDS);
    else start = frameAtOrAfter(end - MAX_SECONDS);
  } else if (end - start < MIN_SECONDS) {
    limit = `${MIN_SECONDS} s at least`;
  }
  return { span: { start, end }, limit };
}

// -- saving ---------------------------------------------------------------------------------

const drafts = new Map(); // window -> its span not saved yet
let busy = false;

export function say(text, { error = false, where = status } = {}) {
  where.classList.toggle("is-error", error);
  where.textContent = "";
  // A fresh text node, so that the same message twice is announced twice.
  window.requestAnimationFrame(() => {
    where.textContent = text;
  });
}

// Three decimals, as the forms take them: well within half a frame at any rate.
const fields = (span) => ({ start: span.start.toFixed(3), end: span.end.toFixed(3) });
const same = (a, b) => Math.abs(a.start - b.start) < EPSILON && Math.abs(a.end - b.end) < EPSILON;

async function send(url, span) {
  try {
    return await postFields(url, fields(span));
  } catch {
    return { ok: false, data: { error: "Cutroom could not be reached; nothing changed. Try again, or use the table below." } };
  }
}

async function commit(win) {
  const span = drafts.get(win);
  drafts.delete(win);
  const origin = spanOf(win);
  if (!span || same(span, origin)) {
    paint(win, origin);
    return;
  }
  setBusy(true);
  win.classList.add("is-saving");
  paint(win, span);
  const result = await send(win.dataset.move, span);
  win.classList.remove("is-saving");
  if (!result.ok) {
    paint(win, origin);
    setBusy(false);
    say(`Window ${win.dataset.number} is back at ${timecode(origin.start)}–${timecode(origin.end)}: ${result.data.error || "the change was refused."}`, { error: true });
    return;
  }
  const saved = result.data.window;
  win.dataset.start = String(saved.start);
  win.dataset.end = String(saved.end);
  // Its neighbours' free stretch changed too.
  for (const other of windows()) paint(other, drafts.get(other) || spanOf(other));
  await refreshLists();
  setBusy(false);
  say(result.data.message);
}

function cancel(win) {
  if (!drafts.has(win)) return;
  drafts.delete(win);
  const origin = spanOf(win);
  paint(win, origin);
  say(`Window ${win.dataset.number} put back at ${timecode(origin.start)}–${timecode(origin.end)}.`);
}

async function add(draft, span) {
  setBusy(true);
  const result = await send(timeline.dataset.add, span);
  if (!result.ok) {
    draft.remove();
    setBusy(false);
    say(`No window added: ${result.data.error || "the server refused it."}`, { error: true });
    return;
  }
  await refreshLists({ track: true });
  draft.remove();
  setBusy(false);
  timeline.querySelector(`.cut-window[data-id='${result.data.window.id}'] [data-part='body']`)?.focus();
  say(result.data.message);
}

// While a change is on its way, the track takes no other (and says so to assistive tech).
function setBusy(value) {
  busy = value;
  track().setAttribute("aria-busy", String(value));
}

// The table, the tick list of the edit form and (after an add) the track, as the server now
// has them; what a person typed or ticked in the edit form stays.
async function refreshLists({ track: withTrack = false } = {}) {
  const page = await getHTML(window.location.pathname).catch(() => null);
  if (!page) return;
  const ids = ["cut-windows-list", "cut-ticks", "cut-timeline-summary", ...(withTrack ? ["cut-track"] : [])];
  for (const id of ids) {
    const here = document.getElementById(id);
    const there = page.getElementById(id);
    if (!here || !there) continue;
    const fresh = document.importNode(there, true);
    if (id === "cut-ticks") keepTyped(here, fresh);
    here.replaceWith(fresh);
  }
  if (withTrack) place();
}

// The ticks and per-window prompts of the edit form, as the person left them.
function keepTyped(here, fresh) {
  const key = (field) => `${field.name}=${field.type === "checkbox" ? field.value : ""}`;
  const kept = new Map([...here.querySelectorAll("input, textarea")].map((field) => [key(field), field]));
  for (const field of fresh.querySelectorAll("input, textarea")) {
    const before = kept.get(key(field));
    if (!before) continue;
    if (field.type === "checkbox") field.checked = before.checked;
    else field.value = before.value;
  }
}

// -- the mouse, pen and finger ---------------------------------------------------------------

let drag = null;

function timeAt(clientX) {
  const box = track().getBoundingClientRect();
  return clamp(((clientX - box.left) / box.width) * duration(), 0, lastTime());
}

function pointerDown(event) {
  if (busy || drag || event.button !== 0 || !timeline.hasAttribute("data-editable")) return;
  const win = event.target.closest(".cut-window");
  const part = event.target.closest("[data-part]")?.dataset.part || (win ? "body" : "draw");
  if (part === "draw" && !event.target.closest(".cut-track")) return;
  drag = { win, part, x: event.clientX, at: timeAt(event.clientX), moved: false, id: event.pointerId };
  drag.origin = win ? drafts.get(win) || spanOf(win) : null;
  try {
    track().setPointerCapture(event.pointerId);
  } catch {
    // A pointer the browser no longer tracks: the drag still follows it over the track.
  }
  if (win) {
    event.preventDefault(); // no text selection; focus is moved by hand below
    win.querySelector(`[data-part='${part}']`)?.focus({ preventScroll: true });
  }
}

function pointerMove(event) {
  if (!drag || event.pointerId !== drag.id) return;
  if (!drag.moved && Math.abs(event.clientX - drag.x) < DRAG_PX) return;
  drag.moved = true;
  const at = timeAt(event.clientX);
  if (drag.part === "draw") {
    if (!drag.draft) {
      drag.draft = document.createElement("div");
      drag.draft.className = "cut-window cut-window-draft";
      drag.draft.setAttribute("aria-hidden", "true");
      drag.draft.innerHTML = '<span class="cut-window-body"><span class="cut-window-length"></span></span>';
      track().append(drag.draft);
      drag.anchor = snap(drag.at);
    }
    drag.result = drawn(drag.anchor, snap(at));
    paint(drag.draft, drag.result.span, { editing: true, limit: drag.result.limit });
    drag.draft.classList.toggle("is-too-short", drag.result.span.end - drag.result.span.start < MIN_SECONDS - EPSILON);
    return;
  }
  const { origin, part } = drag;
  const moved = at - drag.at;
  let wanted;
  if (part === "body") {
    // The start or the end, whichever is nearer a shot cut, pulls the window onto it.
    const start = snap(origin.start + moved);
    const end = snap(origin.end + moved);
    const pulledByEnd = Math.abs(end - (origin.end + moved)) < Math.abs(start - (origin.start + moved)) && shots().includes(end);
    wanted = pulledByEnd ? end - (origin.end - origin.start) : start;
  } else {
    wanted = snap((part === "start" ? origin.start : origin.end) + moved);
  }
  drag.result = changed(drag.win, origin, part, wanted);
  drafts.set(drag.win, drag.result.span);
  paint(drag.win, drag.result.span, { editing: true, limit: drag.result.limit });
}

function pointerUp(event) {
  if (!drag || event.pointerId !== drag.id) return;
  const done = drag;
  drag = null;
  if (track().hasPointerCapture(event.pointerId)) track().releasePointerCapture(event.pointerId);
  if (!done.moved) return; // a tap: the window (or edge) is selected, nothing moves
  if (done.part === "draw") {
    const span = done.result.span;
    if (span.end - span.start < MIN_SECONDS - EPSILON) {
      done.draft.remove();
      say(`A window is ${MIN_SECONDS} to ${MAX_SECONDS} seconds long; drag further to draw one (this one was ${length(span)}).`, { error: true });
      return;
    }
    add(done.draft, span);
    return;
  }
  commit(done.win);
}

function pointerCancel(event) {
  if (!drag || event.pointerId !== drag.id) return;
  const done = drag;
  drag = null;
  if (done.draft) done.draft.remove();
  if (done.win) {
    drafts.delete(done.win);
    paint(done.win, spanOf(done.win));
  }
}

// -- the keyboard -------------------------------------------------------------------------------

function keyDown(event) {
  const control = event.target.closest?.("[data-part]");
  const win = control?.closest(".cut-window");
  if (!win || busy || !timeline.hasAttribute("data-editable")) return;
  const part = control.dataset.part;
  const key = event.key;
  if (key === "[" || key === "]") {
    win.querySelector(`[data-part='${key === "[" ? "start" : "end"}']`).focus();
  } else if (key === "Enter") {
    commit(win);
  } else if (key === "Escape") {
    cancel(win);
  } else {
    const origin = drafts.get(win) || spanOf(win);
    const now = part === "end" ? origin.end : origin.start;
    const second = Math.round(rate().num / rate().den);
    const steps = {
      ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -second, PageUp: second,
    };
    let wanted;
    if (key in steps) {
      const frames = steps[key] * (event.shiftKey && key.startsWith("Arrow") ? second : 1);
      wanted = timeOfFrame(Math.round(frameOf(now)) + frames);
    } else if (key === "Home") {
      wanted = 0;
    } else if (key === "End") {
      wanted = lastTime();
    } else {
      return;
    }
    const result = changed(win, origin, part, wanted);
    drafts.set(win, result.span);
    paint(win, result.span, { editing: !same(result.span, spanOf(win)), limit: result.limit });
    if (same(result.span, spanOf(win))) drafts.delete(win);
    if (result.limit) say(`Window ${win.dataset.number}: ${result.limit}.`);
  }
  event.preventDefault();
}

// Leaving a window with a change not saved yet saves it, as leaving a text field does.
function focusOut(event) {
  const win = event.target.closest?.(".cut-window");
  if (!win || !drafts.has(win) || busy || drag) return;
  if (event.relatedTarget && win.contains(event.relatedTarget)) return;
  commit(win);
}

// -- starting ----------------------------------------------------------------------------------

export function startTimeline(element, liveRegion) {
  timeline = element;
  status = liveRegion;
  place();
  new ResizeObserver(() => drawTrackFilmstrip()).observe(timeline);
  if (!timeline.hasAttribute("data-editable")) return;
  timeline.addEventListener("pointerdown", pointerDown);
  timeline.addEventListener("pointermove", pointerMove);
  timeline.addEventListener("pointerup", pointerUp);
  timeline.addEventListener("pointercancel", pointerCancel);
  timeline.addEventListener("keydown", keyDown);
  timeline.addEventListener("focusout", focusOut);
}
