// The one refresh loop of every page: whatever updates itself from the server runs here, on one
// timer, so a page never has two loops asking at once.
//
// - Live parts: an element with data-refresh and data-pending is re-fetched from its URL (a
//   template partial) until the server no longer marks it pending. Every 1.5 s at first, then
//   slower the longer something stays pending (a take can run for minutes; many open pages
//   should not hammer the server).
// - Other watchers (the comment poll) register with every(): a function run every so often,
//   only while the page is in sight unless asked otherwise.
// - refreshRegions() swaps the page's [data-live-region] parts for the server's current ones.
//
// Elements are swapped by id, so focus and anything outside them (uploads in progress) are
// left alone; each swap is announced with a "live:updated" event carrying the new element.
import { getHTML } from "./net.js";

const FAST_MS = 1500;
const SLOW_MS = 5000;
const started = Date.now();
const tasks = new Set();
let timer = null;

const wanted = (task) => (task.whileHidden || !document.hidden) && (!task.when || task.when());
const interval = (task) => (typeof task.ms === "function" ? task.ms() : task.ms);

// Set the one timer for the next task that is due and not already under way.
function plan() {
  clearTimeout(timer);
  timer = null;
  const due = [...tasks].filter((task) => !task.busy && wanted(task)).map((task) => task.due);
  if (due.length) timer = setTimeout(round, Math.max(0, Math.min(...due) - Date.now()));
}

function round() {
  timer = null;
  for (const task of tasks) {
    if (!task.busy && wanted(task) && task.due <= Date.now()) run(task);
  }
  plan();
}

// A slow answer holds up only its own task: the others keep their pace.
async function run(task) {
  task.busy = true;
  const asked = task.due;
  try {
    await task.run();
  } catch {
    // Offline for a moment: try again next time.
  }
  task.busy = false;
  if (task.due === asked) task.due = Date.now() + interval(task); // unless now() was asked meanwhile
  plan();
}

// Run `run` every `ms` milliseconds (or ms() for a changing interval). `when` says whether it
// has anything to do; `whileHidden: false` rests it while the page is out of sight, and runs it
// at once when the page comes back. Returns {now(), stop()}.
export function every(ms, run, { when = null, whileHidden = true } = {}) {
  const task = { ms, run, when, whileHidden, due: Date.now() + interval({ ms }) };
  tasks.add(task);
  plan();
  return {
    now() {
      task.due = Date.now();
      plan();
    },
    stop() {
      tasks.delete(task);
      plan();
    },
  };
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  for (const task of tasks) {
    if (!task.whileHidden) task.due = Date.now();
  }
  plan();
});

// The same control in the fresh copy of a part: by id, else by its link or its text.
function counterpart(fresh, active) {
  if (active.id) return fresh.querySelector(`#${CSS.escape(active.id)}`);
  const href = active.getAttribute("href");
  if (href) return fresh.querySelector(`a[href="${CSS.escape(href)}"]`);
  const text = active.textContent.trim();
  return [...fresh.querySelectorAll("a, button, input, select, textarea")].find((c) => c.textContent.trim() === text) || null;
}

// Focus is never stolen: a control that had it keeps it in the fresh copy when it is still
// there; otherwise focus goes nowhere new (the browser leaves it on the page).
function swap(element, fresh) {
  const active = document.activeElement;
  const inside = active && active !== document.body && element.contains(active);
  element.replaceWith(fresh);
  if (inside) counterpart(fresh, active)?.focus({ preventScroll: true });
  document.dispatchEvent(new CustomEvent("live:updated", { detail: fresh }));
}

// -- live parts ------------------------------------------------------------------------------
async function refreshPending() {
  for (const element of document.querySelectorAll("[data-refresh][data-pending]")) {
    try {
      const page = await getHTML(element.dataset.refresh);
      const fresh = page?.getElementById(element.id);
      // An unchanged part is left as it is: a live region around it would say it again.
      if (fresh && element.isConnected && fresh.outerHTML !== element.outerHTML) swap(element, fresh);
    } catch {
      // Offline for a moment: try again on the next round.
    }
  }
}

const pending = every(() => (Date.now() - started > 60000 ? SLOW_MS : FAST_MS), refreshPending, {
  when: () => Boolean(document.querySelector("[data-refresh][data-pending]")),
});

// Something changed on the server (an upload finished): look again now, then keep polling.
export function changed() {
  for (const element of document.querySelectorAll("[data-refresh]")) {
    element.setAttribute("data-pending", "");
  }
  pending.now();
}

// -- regions of a whole page -----------------------------------------------------------------
// Swap in the server's current version of each [data-live-region] (from `url`, the page itself
// by default), except one the person is using (with focus inside): that one is left as it is.
export async function refreshRegions(url = window.location.href) {
  let page;
  try {
    page = await getHTML(url);
  } catch {
    return;
  }
  if (!page) return;
  for (const region of document.querySelectorAll("[data-live-region]")) {
    const next = page.getElementById(region.id);
    if (!next || region.contains(document.activeElement)) continue;
    swap(region, document.importNode(next, true));
  }
  plan(); // a region may bring a part that is still pending
}
