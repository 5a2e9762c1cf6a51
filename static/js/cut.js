// The cut page: its renders refresh live while one is made (live.js); the timeline is drawn
// and edited in place (timeline.js); a window's colour and sound are saved without leaving the
// page. The windows table holds every control, so the page works without this script.
import "./live.js";
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
