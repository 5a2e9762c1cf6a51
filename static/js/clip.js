// The clip page: its preview (one video with the players' bar: the position bar carrying the
// comment markers, Play, frame steps and keys, fitted to the window as every player is), the
// live preview while it is being prepared and the live version stack (live.js), the ticked
// versions (stack.js) and the comments. Without JavaScript the video keeps the browser's own
// controls.
import "./live.js";
import "./stack.js";
import "./comments.js";
import { bindControls, fitToWindow, Player } from "./players.js";

function setUp(scope) {
  const root = scope.id === "player" ? scope : scope.querySelector?.("#player");
  const video = root?.querySelector("video");
  const controls = root?.querySelector("[data-player-controls]");
  if (!video || !controls || root.dataset.ready) return;
  root.dataset.ready = "true";
  video.controls = false;
  controls.hidden = false;
  const player = new Player(root);
  bindControls(player);
  fitToWindow(root, root.querySelector(".player-stage"), video);
  // A press on the picture plays or pauses, as the browser's own controls did.
  video.addEventListener("click", () => player.toggle());

  const mute = controls.querySelector("[data-action=mute]");
  const showMuted = () => mute.setAttribute("aria-pressed", String(video.muted));
  mute.addEventListener("click", () => {
    video.muted = !video.muted;
    showMuted();
  });
  video.addEventListener("volumechange", showMuted);

  // Full screen is the video alone, with the browser's controls while it lasts.
  controls.querySelector("[data-action=fullscreen]").addEventListener("click", () => video.requestFullscreen?.());
  video.addEventListener("fullscreenchange", () => {
    video.controls = document.fullscreenElement === video;
  });
}

setUp(document);
// The preview is swapped in by live.js when the clip is ready.
document.addEventListener("live:updated", (event) => setUp(event.detail));
