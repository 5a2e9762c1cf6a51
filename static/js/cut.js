// The cut page: its renders refresh live while one is made (live.js), and the timeline
// (windows, shot cuts and the ruler) is drawn from the data attributes the page carries, each
// placed by its share of the clip's length. The windows table says the same in words and holds
// every control, so the page works without this script.
import "./live.js";

function place(timeline) {
  const duration = Number(timeline.dataset.duration) || 1;
  const share = (seconds) => `${Math.min(100, Math.max(0, (Number(seconds) / duration) * 100))}%`;
  for (const window of timeline.querySelectorAll("[data-start]")) {
    window.style.left = share(window.dataset.start);
    window.style.width = `calc(${share(window.dataset.end)} - ${share(window.dataset.start)})`;
  }
  for (const mark of timeline.querySelectorAll("[data-at]")) {
    mark.style.left = share(mark.dataset.at);
  }
  timeline.classList.add("cut-timeline-drawn");
}

const timeline = document.getElementById("cut-timeline");
if (timeline) {
  place(timeline);
}
