// Live parts of a page: an element with data-refresh and data-pending is re-fetched from its
// URL (a template partial) until the server no longer marks it pending. Elements are swapped
// by id, so focus and anything outside them (uploads in progress) are left alone.
// Every 1.5 s at first, then slower the longer something stays pending (a take can run for
// minutes; many open pages should not hammer the server).
const FAST_MS = 1500;
const SLOW_MS = 5000;
const started = Date.now();
let timer = null;

async function refresh() {
  timer = null;
  const live = [...document.querySelectorAll("[data-refresh][data-pending]")];
  for (const element of live) {
    try {
      const response = await fetch(element.dataset.refresh, { headers: { Accept: "text/html" } });
      if (!response.ok) continue;
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(element.id);
      if (fresh) {
        element.replaceWith(fresh);
        document.dispatchEvent(new CustomEvent("live:updated", { detail: fresh }));
      }
    } catch {
      // Offline for a moment: try again on the next tick.
    }
  }
  schedule();
}

export function schedule(now = false) {
  if (timer !== null) clearTimeout(timer);
  if (!now && !document.querySelector("[data-refresh][data-pending]")) return;
  const interval = Date.now() - started > 60000 ? SLOW_MS : FAST_MS;
  timer = setTimeout(refresh, now ? 0 : interval);
}

// Something changed on the server (an upload finished): look again now, then keep polling.
export function changed() {
  for (const element of document.querySelectorAll("[data-refresh]")) {
    element.setAttribute("data-pending", "");
  }
  schedule(true);
}

schedule();
