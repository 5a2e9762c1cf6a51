// The compare player: two videos on one shared timeline, side by side or as a wipe.
// Video B follows video A; drift is corrected continuously by steering B's playback rate, and
// seeks pause both, line them up and start them together, so they stay within one frame.
// Frames are the source clip's (data-fps): a frame step lands in the middle of the next frame,
// so rounding can never leave a video showing the one before.
const FALLBACK_FPS = 25; // as the server's, for a clip whose rate could not be read
const players = new WeakMap();

function setUp(root) {
  const a = root.querySelector("video[data-side=a]");
  const b = root.querySelector("video[data-side=b]");
  const play = root.querySelector("[data-action=play]");
  const scrub = root.querySelector(".scrub");
  const time = root.querySelector("[data-time]");
  const speed = root.querySelector("[data-speed]");
  const audio = root.querySelector("[data-audio]");
  const loop = root.querySelector("[data-loop]");
  const handle = root.querySelector(".wipe-handle");
  const stage = root.querySelector(".compare-stage");
  const fps = Number(root.dataset.fps) || FALLBACK_FPS;
  let wipe = 50;

  // Until both videos know their length, show the one the server knows.
  const known = Number(root.dataset.duration) || 0;
  const duration = () => Math.min(a.duration || known, b.duration || a.duration || known) || 0;

  function seekTo(video, t) {
    return new Promise((resolve) => {
      video.addEventListener("seeked", resolve, { once: true });
      video.currentTime = t;
    });
  }

  // Both videos pause, land on the same time, and (if they were playing) start together again.
  async function seek(t, resume = !a.paused) {
    const target = Math.max(0, Math.min(duration() - 0.001, t));
    a.pause();
    b.pause();
    await Promise.all([seekTo(a, target), seekTo(b, target)]);
    if (resume) {
      await Promise.all([a.play(), b.play()]).catch(() => {});
      requestAnimationFrame(tick);
    }
    draw();
  }

  function setAudio() {
    a.muted = audio.value !== "a";
    b.muted = audio.value !== "b";
  }

  function setRate() {
    a.playbackRate = Number(speed.value);
    b.playbackRate = Number(speed.value);
  }

  function sync() {
    if (a.seeking || b.seeking || a.paused) return;
    const drift = b.currentTime - a.currentTime;
    if (Math.abs(drift) > 0.25) {
      // Far apart (a stall, a tab in the background): stop, line up, start together.
      seek(a.currentTime, true);
      return;
    }
    // Otherwise steer B's speed: up to 50 % faster or slower closes a frame of drift within
    // a few hundred milliseconds, without the stall a seek during playback would cause.
    const correction = Math.max(-0.5, Math.min(0.5, drift * 6));
    b.playbackRate = a.playbackRate * (1 - correction);
  }

  function draw() {
    const d = duration();
    if (d) scrub.value = String(Math.round((a.currentTime / d) * 1000));
    time.textContent = `${a.currentTime.toFixed(2)} / ${d.toFixed(2)}`;
    root.dataset.drift = String(Math.abs(b.currentTime - a.currentTime));
  }

  function tick() {
    sync();
    draw();
    if (!a.paused) requestAnimationFrame(tick);
  }

  function toggle() {
    if (a.paused) {
      Promise.all([a.play(), b.play()]).catch(() => {});
      play.textContent = "Pause";
      requestAnimationFrame(tick);
    } else {
      a.pause();
      b.pause();
      b.currentTime = a.currentTime;
      play.textContent = "Play";
      draw();
    }
  }

  function step(frames) {
    play.textContent = "Play";
    const frame = Math.max(0, Math.floor(a.currentTime * fps + 0.001) + frames);
    seek((frame + 0.5) / fps, false);
  }

  // J and L: a second's frames back or forward, playing on if the videos were playing.
  function jump(seconds) {
    const frame = Math.max(0, Math.floor(a.currentTime * fps + 0.001) + Math.round(seconds * fps));
    seek((frame + 0.5) / fps);
  }

  function setWipe(percent) {
    wipe = Math.max(0, Math.min(100, percent));
    stage.style.setProperty("--wipe", `${wipe}%`);
    handle.setAttribute("aria-valuenow", String(Math.round(wipe)));
  }

  function setMode(mode) {
    root.dataset.mode = mode;
    handle.hidden = mode !== "wipe";
    root.querySelector("[data-action=mode]").textContent = mode === "wipe" ? "Side by side" : "Wipe";
  }

  a.addEventListener("ended", () => {
    if (loop.checked) {
      seek(0, true);
    } else {
      b.pause();
      play.textContent = "Play";
    }
  });
  // Show frame 0 on both sides as soon as each video knows its length: with preload=metadata
  // a browser may otherwise leave one side blank until play.
  for (const video of [a, b]) {
    video.addEventListener("loadedmetadata", () => {
      if (video.paused && video.currentTime === 0 && video.readyState < 2) video.currentTime = 0;
      draw();
    });
  }
  scrub.addEventListener("input", () => seek((Number(scrub.value) / 1000) * duration()));
  speed.addEventListener("change", setRate);
  audio.addEventListener("change", setAudio);
  root.querySelector("[data-action=play]").addEventListener("click", toggle);
  root.querySelector("[data-action=back]").addEventListener("click", () => step(-1));
  root.querySelector("[data-action=forward]").addEventListener("click", () => step(1));
  root.querySelector("[data-action=mode]").addEventListener("click", () => setMode(root.dataset.mode === "wipe" ? "side" : "wipe"));
  root.querySelector("[data-action=fullscreen]").addEventListener("click", () => root.requestFullscreen?.());

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
  // Other scripts (comments) move both videos through an event: {detail: {time}} pauses
  // both at that time; "compare:seeked" follows once both are there.
  root.addEventListener("compare:seek", async (event) => {
    play.textContent = "Play";
    await seek(event.detail.time, false);
    root.dispatchEvent(new CustomEvent("compare:seeked", { detail: { time: a.currentTime } }));
  });
  players.set(root, {
    toggle,
    step,
    jump,
    wipe: () => setMode(root.dataset.mode === "wipe" ? "side" : "wipe"),
    fullscreen: () => root.requestFullscreen?.(),
  });
  root.tabIndex = 0;
  setAudio();
  setRate();
  setWipe(50);
  setMode("side");
}

// The player's keys work anywhere on the page, except where the key already means something:
// typing in a form field, Space on a button or link (it presses it), and the wipe divider's own
// arrows (it handles them first and stops them). Shortcuts with Ctrl, Alt or Meta are the
// browser's (Ctrl+W, Ctrl+F). Space and K play and pause, ←/→ and ,/. step one frame, J/L
// jump one second back/forward (playing on if playing), W wipes, F fills the screen.
const TYPING = "input, textarea, select, [contenteditable]:not([contenteditable=false])";
const PRESSABLE = "button, a[href], summary, [role=button], [role=link], [role=checkbox], [role=menuitem]";

function playerFor(target) {
  const root = target.closest?.("[data-compare]") || document.querySelector("[data-compare][data-ready]");
  return root ? players.get(root) : undefined;
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return;
  const target = event.target instanceof Element ? event.target : document.body;
  if (target.closest(TYPING)) return;
  const player = playerFor(target);
  if (!player) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (key === " ") {
    if (target.closest(PRESSABLE)) return;
    event.preventDefault();
    if (!event.repeat) player.toggle();
  } else if (key === "ArrowLeft" || key === "ArrowRight" || key === "," || key === ".") {
    event.preventDefault();
    player.step(key === "ArrowLeft" || key === "," ? -1 : 1);
  } else if (key === "j" || key === "l") {
    player.jump(key === "j" ? -1 : 1);
  } else if (key === "k" && !event.repeat) {
    player.toggle();
  } else if (key === "w" && !event.repeat) {
    player.wipe();
  } else if (key === "f" && !event.repeat) {
    player.fullscreen();
  }
});

function setUpAll(scope) {
  for (const root of scope.querySelectorAll("[data-compare]:not([data-ready])")) {
    root.dataset.ready = "true";
    setUp(root);
  }
}

setUpAll(document);
// The take page swaps its status in when the take finishes: set up the player it brings.
document.addEventListener("live:updated", (event) => setUpAll(event.detail));
