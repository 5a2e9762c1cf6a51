// The variation grid: 2-4 versions of a clip and the source, on one timeline (players.js: the
// longest finished take leads; the source cell plays the clip from the part the takes edited).
// A cell whose take is still being made is refreshed by live.js and joins the timeline at the
// current time once its video knows its length.
import "./live.js";
import "./review.js";
import { bindControls, Player } from "./players.js";

const root = document.querySelector("[data-grid]");

// The grid's controls drive every cell (the browser's own are there without JavaScript).
function withoutOwnControls(scope) {
  for (const video of scope.querySelectorAll("video")) video.controls = false;
}

function setUp() {
  if (root.dataset.aspect) {
    const [w, h] = root.dataset.aspect.split("/").map(Number);
    if (w && h) {
      root.style.setProperty("--cell-aspect", `${w} / ${h}`);
      root.style.setProperty("--cell-ratio", String(w / h));
      if (w / h < 0.9) root.dataset.shape = "tall"; // a phone lays out two cells a row
    }
  }
  withoutOwnControls(root);
  const player = new Player(root);
  bindControls(player);

  // Sound: every cell is muted until its own button is pressed; one cell plays at a time.
  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-sound]");
    if (!button) return;
    const on = button.getAttribute("aria-pressed") !== "true";
    for (const other of root.querySelectorAll("[data-sound]")) {
      other.setAttribute("aria-pressed", "false");
      const video = other.closest("[data-cell]").querySelector("video");
      if (video) video.muted = true;
    }
    if (on) {
      button.setAttribute("aria-pressed", "true");
      button.closest("[data-cell]").querySelector("video").muted = false;
    }
  });

  document.addEventListener("live:updated", (event) => {
    if (!event.detail?.matches?.("[data-cell]")) return;
    withoutOwnControls(event.detail);
    player.prepare(event.detail);
  });
  root.dataset.ready = "true";
}

if (root) setUp();
