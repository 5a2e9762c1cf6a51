// The compare player: two videos on one shared timeline (players.js), side by side or as a
// wipe, with the sound of one side. W switches wipe and side by side, F fills the screen. The
// picture fits the window with its controls in sight (players.js fitToWindow); on a narrow
// screen, where two pictures side by side would each be too small, it starts as a wipe.
import { bindControls, fitToWindow, Player } from "./players.js";

const NARROW = window.matchMedia("(max-width: 699.98px)");

function setUp(root) {
  const a = root.querySelector("video[data-side=a]");
  const b = root.querySelector("video[data-side=b]");
  const audio = root.querySelector("[data-audio]");
  const handle = root.querySelector(".wipe-handle");
  const stage = root.querySelector(".compare-stage");
  const modeButton = root.querySelector("[data-action=mode]");
  let wipe = 50;

  function setAudio() {
    a.muted = audio.value !== "a";
    b.muted = audio.value !== "b";
  }

  function setWipe(percent) {
    wipe = Math.max(0, Math.min(100, percent));
    stage.style.setProperty("--wipe", `${wipe}%`);
    handle.setAttribute("aria-valuenow", String(Math.round(wipe)));
  }

  function setMode(mode) {
    root.dataset.mode = mode;
    handle.hidden = mode !== "wipe";
    modeButton.textContent = mode === "wipe" ? "Side by side" : "Wipe";
  }

  let chosen = false; // the person picked a mode: a turned phone keeps it
  const toggleMode = () => {
    chosen = true;
    setMode(root.dataset.mode === "wipe" ? "side" : "wipe");
  };
  const fullscreen = () => root.requestFullscreen?.();
  const player = new Player(root, { extraKeys: { w: toggleMode, f: fullscreen } });
  bindControls(player);

  audio.addEventListener("change", setAudio);
  modeButton.addEventListener("click", toggleMode);
  root.querySelector("[data-action=fullscreen]").addEventListener("click", fullscreen);
  handle.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      event.stopPropagation();
      setWipe(wipe + (event.key === "ArrowLeft" ? -5 : 5));
    }
  });
  stage.addEventListener("pointerdown", (event) => {
    if (root.dataset.mode !== "wipe") return;
    const move = (e) => {
      const box = stage.getBoundingClientRect();
      setWipe(((e.clientX - box.left) / box.width) * 100);
    };
    move(event);
    stage.setPointerCapture(event.pointerId);
    stage.addEventListener("pointermove", move);
    stage.addEventListener("pointerup", () => stage.removeEventListener("pointermove", move), { once: true });
  });
  root.tabIndex = 0;
  setAudio();
  setWipe(50);
  setMode(NARROW.matches ? "wipe" : "side");
  NARROW.addEventListener("change", () => {
    if (!chosen && root.isConnected) setMode(NARROW.matches ? "wipe" : "side");
  });
  fitToWindow(root, stage, b);
}

function setUpAll(scope) {
  for (const root of scope.querySelectorAll("[data-compare]:not([data-ready])")) {
    root.dataset.ready = "true";
    setUp(root);
  }
}

setUpAll(document);
// The take page swaps its status in when the take finishes: set up the player it brings.
document.addEventListener("live:updated", (event) => setUpAll(event.detail));
