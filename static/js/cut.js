// The cut page: its renders refresh live while one is made (live.js); the timeline is drawn
// and edited in place (timeline.js); a window's colour and sound are saved without leaving the
// page. The windows table holds every control, so the page works without this script.
import "./live.js";
import { showBudgetFit } from "./budget_fit.js";
import { postForm } from "./net.js";
import { say, startTimeline } from "./timeline.js";

// A window's colour and sound, saved in place; a refused box goes back as the server has it.
async function saveSettings(event) {
  const form = event.target.closest("form[data-window-settings]");
  if (!form) return;
  event.preventDefault();
  const result = await postForm(form).catch(() => ({ ok: false, data: { error: "Cutroom could not be reached; nothing changed." } }));
  const saved = result.data.window;
  if (saved) {
    // As the server has it: a refused box goes back.
    form.elements.namedItem("colour_match").checked = saved.colour_match;
    form.elements.namedItem("take_sound").checked = saved.take_sound;
  }
  const where = form.querySelector("[data-settings-status]") || document.getElementById("cut-timeline-status");
  if (!result.ok) {
    say(result.data.error || "The change was refused.", { error: true, where });
    return;
  }
  say(result.data.message, { where });
}

const timeline = document.getElementById("cut-timeline");
const status = document.getElementById("cut-timeline-status");
if (timeline && status) startTimeline(timeline, status);
document.addEventListener("submit", saveSettings);

// Whether the ticked windows, at the chosen resolution, fit the budgets left (budget_fit.js).
const editForm = document.getElementById("cut-edit-form");
function updateBudgetFit() {
  const prices = JSON.parse(editForm.dataset.prices);
  const resolution = editForm.elements.namedItem("resolution").value;
  const ticked = [...editForm.querySelectorAll("input[name=windows]:checked")];
  const seconds = ticked.reduce((sum, box) => sum + Number(box.dataset.seconds), 0);
  const advice = resolution === "720P" ? "Tick fewer windows" : "Tick fewer windows or choose 720P";
  showBudgetFit(seconds * Number(prices[resolution] || 0), { what: "the ticked windows' estimate", advice });
}
if (editForm) {
  editForm.addEventListener("input", updateBudgetFit);
  updateBudgetFit();
}
