// The variation grid: 2-4 versions of a clip and the source, on one timeline.
//
// The sync is compare.js's, for any number of videos: the longest finished take leads, and
// every other cell follows it. Small drift is closed by steering the follower's playback rate
// (up to 50 % faster or slower, which closes a frame within a few hundred milliseconds without
// the stall a seek would cause); a large one (a stall, a tab in the background) pauses every
// cell, lines them up and starts them together. Pausing and frame steps line every cell up on
// the same time exactly. The source cell plays the clip itself from the part the takes edited
// (data-offset); a shorter take holds its last frame while the longer ones play on.
//
// A cell whose take is still being made is refreshed by live.js and joins the timeline at the
// current time once its video knows its length. Frame steps are at the clip's frame rate.
import "./live.js";
import "./review.js";

const root = document.querySelector("[data-grid]");

function setUp() {
  const fps = Number(root.dataset.fps) || 25;
  const known = Number(root.dataset.duration) || 0;
  const playButton = root.querySelector("[data-action=play]");
  const scrub = root.querySelector("[data-scrub]");
  const time = root.querySelector("[data-time]");
  const speed = root.querySelector("[data-speed]");
  const loop = root.querySelector("[data-loop]");
  const joined = new WeakSet(); // videos that know their length and follow the timeline
  let playing = false;
  let lining = 0; // seeks that line every cell up, under way
  let ticking = false;

  if (root.dataset.aspect) {
    const [w, h] = root.dataset.aspect.split("/").map(Number);
    if (w && h) {
      root.style.setProperty("--cell-aspect", `${w} / ${h}`);
      root.style.setProperty("--cell-ratio", String(w / h));
    }
  }

  const videos = () => [...root.querySelectorAll("video[data-grid-video]")].filter((v) => joined.has(v));
  const offset = (video) => Number(video.dataset.offset) || 0;
  const isSource = (video) => video.hasAttribute("data-source");
  // How long a cell plays on the timeline: a take its whole result, the source what follows
  // the part's start.
  const length = (video) => (isSource(video) ? Math.max(0, video.duration - offset(video)) : video.duration) || 0;

  function leader() {
    const takes = videos().filter((v) => !isSource(v));
    if (!takes.length) return videos()[0] || null;
    return takes.reduce((best, v) => (length(v) > length(best) ? v : best));
  }

  function duration() {
    const takes = videos().filter((v) => !isSource(v));
    return takes.length ? Math.max(...takes.map(length)) : known;
  }

  function now() {
    const lead = leader();
    return lead ? Math.max(0, lead.currentTime - offset(lead)) : 0;
  }

  // Where a cell shows timeline time t: a shorter take stays on its last frame.
  const target = (video, t) => offset(video) + Math.min(t, Math.max(0, length(video) - 0.001));

  function seekTo(video, t) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, 3000); // a video that never answers holds nobody up
      video.addEventListener("seeked", done, { once: true });
      video.currentTime = t;
    });
  }

  // Every cell pauses, lands on time t, and (if resume) they start together again.
  async function seek(t, resume) {
    const d = duration();
    const to = Math.max(0, d ? Math.min(d - 0.001, t) : t);
    lining += 1;
    const all = videos();
    for (const video of all) video.pause();
    try {
      await Promise.all(all.map((video) => seekTo(video, target(video, to))));
    } finally {
      lining -= 1;
    }
    if (resume && playing) await start();
    draw();
  }

  async function start() {
    const d = duration();
    if (d && now() >= d - 0.02) {
      playing = true;
      await seek(0, true); // from the end: play again from the start
      return;
    }
    playing = true;
    playButton.textContent = "Pause";
    const t = now();
    const rate = Number(speed.value);
    const starting = [];
    for (const video of videos()) {
      video.playbackRate = rate;
      if (t < length(video) - 0.01) starting.push(video.play());
    }
    schedule();
    await Promise.all(starting).catch(() => {});
  }

  function stop() {
    playing = false;
    playButton.textContent = "Play";
    return seek(now(), false); // pause every cell and line them up exactly
  }

  function toggle() {
    if (playing) stop();
    else start();
  }

  // One frame at the clip's rate. The frame shown at time t is floor(t * fps).
  function step(frames) {
    const d = duration();
    const last = d ? Math.max(0, Math.ceil(d * fps) - 1) : Infinity;
    const frame = Math.max(0, Math.min(last, Math.floor(now() * fps + 1e-6) + frames));
    playing = false;
    playButton.textContent = "Play";
    // A tenth of a millisecond into the frame, so rounding never shows the one before.
    seek(frame / fps + 0.0001, false);
  }

  function sync() {
    const lead = leader();
    if (!lead) return;
    const t = now();
    const rate = Number(speed.value);
    let worst = 0;
    lead.playbackRate = rate;
    for (const video of videos()) {
      if (video === lead || video.seeking) continue;
      if (t >= length(video) - 0.01) {
        if (!video.paused) video.pause(); // shorter: holds its last frame
        continue;
      }
      if (video.paused) {
        // Joined while playing, or back in range after a loop: start it where the others are.
        video.currentTime = target(video, t);
        video.play().catch(() => {});
        continue;
      }
      const drift = video.currentTime - offset(video) - t;
      worst = Math.max(worst, Math.abs(drift));
      if (Math.abs(drift) > 0.25) {
        seek(t, true);
        return;
      }
      const correction = Math.max(-0.5, Math.min(0.5, drift * 6));
      video.playbackRate = rate * (1 - correction);
    }
    root.dataset.drift = String(worst);
  }

  function draw() {
    const d = duration();
    const t = now();
    if (d) scrub.value = String(Math.round(Math.min(1, t / d) * 1000));
    time.textContent = `${t.toFixed(2)} / ${d.toFixed(2)} · frame ${Math.floor(t * fps + 1e-6)}`;
  }

  function schedule() {
    if (!ticking) {
      ticking = true;
      requestAnimationFrame(tick);
    }
  }

  function tick() {
    ticking = false;
    if (!playing) return;
    if (!lining) {
      const lead = leader();
      const d = duration();
      if (lead && d && (lead.ended || now() >= d - 0.01)) {
        if (loop.checked) seek(0, true);
        else {
          stop();
          return;
        }
      } else {
        sync();
      }
    }
    draw();
    schedule();
  }

  // A video joins the timeline once it knows its length, at the time the others show.
  function join(video) {
    if (joined.has(video)) return;
    const t = now();
    video.controls = false;
    joined.add(video);
    video.currentTime = target(video, t);
    if (playing && t < length(video) - 0.01) {
      video.playbackRate = Number(speed.value);
      video.play().catch(() => {});
    }
    draw();
  }

  function prepare(scope) {
    for (const video of scope.querySelectorAll("video[data-grid-video]")) {
      video.controls = false; // the grid's controls drive every cell (native ones without JS)
      if (video.readyState >= 1) join(video);
      else video.addEventListener("loadedmetadata", () => join(video), { once: true });
    }
  }

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

  playButton.addEventListener("click", toggle);
  root.querySelector("[data-action=back]").addEventListener("click", () => step(-1));
  root.querySelector("[data-action=forward]").addEventListener("click", () => step(1));
  scrub.addEventListener("input", () => seek((Number(scrub.value) / 1000) * duration(), playing));
  speed.addEventListener("change", () => {
    for (const video of videos()) video.playbackRate = Number(speed.value);
  });

  // Keys anywhere on the page, except while typing, Space on a button or link (it presses
  // it), and shortcuts with Ctrl, Alt or Meta (the browser's).
  const TYPING = "input:not([type=range]):not([type=checkbox]), textarea, select, [contenteditable]:not([contenteditable=false])";
  const PRESSABLE = "button, a[href], summary, input, [role=button], [role=link]";
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return;
    const target = event.target instanceof Element ? event.target : document.body;
    if (target.closest(TYPING)) return;
    if (event.key === " ") {
      if (target.closest(PRESSABLE)) return;
      event.preventDefault();
      if (!event.repeat) toggle();
    } else if (event.key === "ArrowLeft" || event.key === ",") {
      if (target.matches("input[type=range]")) return; // the scrubber's own arrows
      event.preventDefault();
      step(-1);
    } else if (event.key === "ArrowRight" || event.key === ".") {
      if (target.matches("input[type=range]")) return;
      event.preventDefault();
      step(1);
    }
  });

  document.addEventListener("live:updated", (event) => {
    if (event.detail?.matches?.("[data-cell]")) prepare(event.detail);
  });
  prepare(root);
  draw();
  root.dataset.ready = "true";
}

if (root) setUp();
