// The take page: live status (via live.js), a ticking clock, and a browser notification when
// the take ends, if the person asked for one. When the take ends while the page is open, the
// parts of the page that depend on its state (share card, actions, compare and variations) are
// brought up to date too, and notices about the take waiting are removed. The page's other
// parts are their own modules: the compare player, the review status and the comments.
import { refreshRegions } from "./live.js";
import "./compare.js";
import "./review.js";
import "./comments.js";

const button = document.getElementById("notify");

function tick() {
  for (const element of document.querySelectorAll("[data-since]")) {
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(element.dataset.since)) / 1000));
    const minutes = Math.floor(seconds / 60);
    element.textContent = minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
  }
}
setInterval(tick, 1000);
tick();

if ("Notification" in window && document.querySelector("#take-status[data-pending]")) {
  button.hidden = Notification.permission === "granted";
  button.addEventListener("click", async () => {
    const answer = await Notification.requestPermission();
    button.hidden = answer === "granted";
  });
}

document.addEventListener("live:updated", (event) => {
  const status = event.detail;
  if (status.id !== "take-status" || !status.dataset.final) return;
  if (button) button.hidden = true;
  // "The take is queued…" and the like describe a take that has now ended.
  for (const notice of document.querySelectorAll(".messages")) notice.remove();
  document.title = `${status.dataset.final} · ${document.title.replace(/^.* · (?=Take)/, "")}`;
  refreshRegions();
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(`Cutroom: take ${status.dataset.final.toLowerCase()}`, { body: document.querySelector("h1").textContent });
  }
});
