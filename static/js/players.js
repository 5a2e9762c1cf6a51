// Every video player on Cutroom's pages is one of these: the compare (two videos), the
// variation grid (the source and 2-4 takes) and the clip page (one video). One timeline for
// all the videos of a player, one frame convention, one set of keys.
//
// Frames: a player's frame rate is the source clip's, from its root's data-fps (the server's
// subject_fps; 25 when the clip's rate could not be read, as the server's FALLBACK_FPS). The
// frame shown at time t is floor(t * fps), and a frame step, a jump or a seek to a frame (a
// comment's) lands in the middle of the frame, so rounding can never show the one before.
//
// Sync: the longest take leads and every other video follows it. Small drift is closed by
// steering the follower's playback rate (up to 50 % faster or slower, which closes a frame
// within a few hundred milliseconds without the stall a seek would cause); a large one (a
// stall, a tab in the background) pauses every video, lines them up and starts them together.
// Pausing and frame steps line every video up on the same time exactly. A video with
// data-source plays the clip itself from data-offset and does not set the timeline's length;
// a shorter video holds its last frame while the longer ones play on.
export const FALLBACK_FPS = 25;
const EPSILON = 0.001; // of a frame: t * fps a hair under a whole number is still that frame
const FAR_APART = 0.25; // seconds of drift that a rate change would take too long to close
const SEEK_TIMEOUT_MS = 3000; // a video that never answers a seek holds nobody up

export const frameAt = (seconds, fps) => Math.max(0, Math.floor(seconds * fps + EPSILON));
export const frameTime = (frame, fps) => (frame + 0.5) / fps;

const pad = (n) => String(n).padStart(2, "0");

// HH:MM:SS:FF at the whole-number rate (23.976 counts as 24), as the server writes it.
export function timecode(frame, fps) {
  const rate = Math.max(1, Math.round(fps));
  const seconds = Math.floor(frame / rate);
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}:${pad(frame % rate)}`;
}

function seekTo(video, t) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, SEEK_TIMEOUT_MS);
    video.addEventListener("seeked", done, { once: true });
    video.currentTime = t;
  });
}

const registry = new Set();

export class Player {
  // root holds the videos and data-fps / data-duration (seconds, shown until the videos know).
  // extraKeys: {key: () => ...} for keys of this player alone (the compare's W and F).
  constructor(root, { extraKeys = {} } = {}) {
    this.root = root;
    this.fps = Number(root.dataset.fps) || FALLBACK_FPS;
    this.known = Number(root.dataset.duration) || 0;
    this.extraKeys = extraKeys;
    this.joined = new WeakSet(); // videos that know their length and follow the timeline
    this.prepared = new WeakSet();
    this.playing = false;
    this.lining = 0; // seeks that line every video up, under way
    this.ticking = false;
    this.rate = 1;
    this.loops = () => false;
    registry.add(this);
    this.prepare(root);
    // Others on the page (the comment panel) may have been waiting for a player.
    document.dispatchEvent(new CustomEvent("player:new", { detail: this }));
  }

  // -- the timeline ------------------------------------------------------------------------
  elements() {
    return [...this.root.querySelectorAll("video")];
  }

  videos() {
    return this.elements().filter((v) => this.joined.has(v));
  }

  offset(video) {
    return Number(video.dataset.offset) || 0;
  }

  isSource(video) {
    return video.hasAttribute("data-source");
  }

  // How long a video plays on the timeline: a take its whole result, the source what follows
  // its offset.
  length(video) {
    return (this.isSource(video) ? Math.max(0, video.duration - this.offset(video)) : video.duration) || 0;
  }

  leader() {
    const all = this.videos();
    const takes = all.filter((v) => !this.isSource(v));
    if (!takes.length) return all[0] || null;
    return takes.reduce((best, v) => (this.length(v) > this.length(best) ? v : best));
  }

  duration() {
    const takes = this.videos().filter((v) => !this.isSource(v));
    return takes.length ? Math.max(...takes.map((v) => this.length(v))) : this.known;
  }

  time() {
    const lead = this.leader();
    return lead ? Math.max(0, lead.currentTime - this.offset(lead)) : 0;
  }

  frame() {
    return frameAt(this.time(), this.fps);
  }

  lastFrame() {
    const d = this.duration();
    return d ? Math.max(0, Math.ceil(d * this.fps - EPSILON) - 1) : Infinity;
  }

  // Where a video shows timeline time t: a shorter one stays on its last frame.
  target(video, t) {
    return this.offset(video) + Math.min(t, Math.max(0, this.length(video) - 0.001));
  }

  // -- moving ------------------------------------------------------------------------------
  // Every video pauses, lands on time t, and (if resume) they start together again.
  async seek(t, resume = this.playing) {
    const d = this.duration();
    const to = Math.max(0, d ? Math.min(d - 0.001, t) : t);
    this.lining += 1;
    const all = this.videos();
    for (const video of all) video.pause();
    try {
      await Promise.all(all.map((video) => seekTo(video, this.target(video, to))));
    } finally {
      this.lining -= 1;
    }
    if (resume && this.playing) await this.start();
    this.draw();
  }

  // Paused, in the middle of `frame` (a comment's, or one typed in).
  seekFrame(frame) {
    this.playing = false;
    this.draw();
    const to = Math.max(0, Math.min(this.lastFrame(), frame));
    return this.seek(frameTime(to, this.fps), false);
  }

  // One frame (or n) back or forward, paused.
  step(frames) {
    return this.seekFrame(this.frame() + frames);
  }

  // A second's frames back or forward, playing on if the videos were playing.
  jump(seconds) {
    const frame = Math.max(0, Math.min(this.lastFrame(), this.frame() + Math.round(seconds * this.fps)));
    return this.seek(frameTime(frame, this.fps));
  }

  async start() {
    const d = this.duration();
    this.playing = true;
    if (d && this.time() >= d - 0.02) {
      await this.seek(0, true); // from the end: play again from the start
      return;
    }
    const t = this.time();
    const starting = [];
    for (const video of this.videos()) {
      video.playbackRate = this.rate;
      if (t < this.length(video) - 0.01) starting.push(video.play());
    }
    this.schedule();
    this.draw();
    await Promise.all(starting).catch(() => {});
  }

  stop() {
    this.playing = false;
    this.draw();
    if (this.videos().length < 2) {
      for (const video of this.videos()) video.pause();
      this.draw();
      return Promise.resolve();
    }
    return this.seek(this.time(), false); // pause every video and line them up exactly
  }

  pause() {
    return this.playing ? this.stop() : Promise.resolve();
  }

  toggle() {
    return this.playing ? this.stop() : this.start();
  }

  setRate(rate) {
    this.rate = rate;
    for (const video of this.videos()) video.playbackRate = rate;
  }

  sync() {
    const lead = this.leader();
    if (!lead) return;
    const t = this.time();
    let worst = 0;
    lead.playbackRate = this.rate;
    for (const video of this.videos()) {
      if (video === lead || video.seeking) continue;
      if (t >= this.length(video) - 0.01) {
        if (!video.paused) video.pause(); // shorter: holds its last frame
        continue;
      }
      if (video.paused) {
        // Joined while playing, or back in range after a loop: start it where the others are.
        video.currentTime = this.target(video, t);
        video.play().catch(() => {});
        continue;
      }
      const drift = video.currentTime - this.offset(video) - t;
      worst = Math.max(worst, Math.abs(drift));
      if (Math.abs(drift) > FAR_APART) {
        this.seek(t, true);
        return;
      }
      const correction = Math.max(-0.5, Math.min(0.5, drift * 6));
      video.playbackRate = this.rate * (1 - correction);
    }
    this.root.dataset.drift = String(worst);
  }

  schedule() {
    if (!this.ticking) {
      this.ticking = true;
      requestAnimationFrame(() => this.tick());
    }
  }

  tick() {
    this.ticking = false;
    if (!this.playing) return;
    if (!this.lining) {
      const lead = this.leader();
      const d = this.duration();
      if (lead && d && (lead.ended || this.time() >= d - 0.01)) {
        if (this.loops()) this.seek(0, true);
        else {
          this.stop();
          return;
        }
      } else {
        this.sync();
      }
    }
    this.draw();
    this.schedule();
  }

  draw() {
    this.root.dispatchEvent(new CustomEvent("player:draw", { detail: this }));
  }

  // -- videos joining ------------------------------------------------------------------------
  // A video joins the timeline once it knows its length, at the time the others show.
  join(video) {
    if (this.joined.has(video) || !video.isConnected) return;
    // The first video sets the time (the clip page's may have been moved already); the others go
    // where it is. One without a poster is asked for its frame even where it stands (with
    // preload=metadata a browser may leave it blank until play); one with a poster keeps it,
    // which a seek would take away.
    const t = this.videos().length ? this.time() : Math.max(0, video.currentTime - this.offset(video));
    this.joined.add(video);
    const to = this.target(video, t);
    if (Math.abs(video.currentTime - to) > 0.0005 || (!video.poster && video.readyState < 2)) video.currentTime = to;
    if (this.playing && t < this.length(video) - 0.01) {
      video.playbackRate = this.rate;
      video.play().catch(() => {});
    }
    // The leader played or paused by its own controls (the clip page's video): follow it.
    video.addEventListener("play", () => {
      if (!this.lining && !this.playing && video === this.leader()) this.start();
    });
    video.addEventListener("pause", () => {
      if (!this.lining && this.playing && !video.ended && video === this.leader()) this.stop();
    });
    this.draw();
    this.root.dispatchEvent(new CustomEvent("player:joined", { detail: video }));
  }

  // Videos in `scope` (the root, or a grid cell a live update brought) join when they can.
  prepare(scope) {
    const found = scope.matches?.("video") ? [scope] : [...scope.querySelectorAll("video")];
    for (const video of found) {
      if (this.prepared.has(video)) continue;
      this.prepared.add(video);
      if (video.readyState >= 1) this.join(video);
      else video.addEventListener("loadedmetadata", () => this.join(video), { once: true });
    }
  }

  // Resolves once every video of the player knows its length (or after `timeout` ms).
  ready(timeout = 15000) {
    const known = () => this.elements().every((v) => this.joined.has(v));
    if (known()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.root.removeEventListener("player:joined", check);
        resolve();
      };
      const check = () => {
        if (known()) done();
      };
      const timer = setTimeout(done, timeout);
      this.root.addEventListener("player:joined", check);
    });
  }
}

// The common controls inside a player's root: [data-action=play|back|forward], the position
// slider [data-scrub], the time [data-time] (with the frame number when data-time="frame"),
// [data-speed] and [data-loop]. Any of them may be missing (the clip page has the browser's).
export function bindControls(player) {
  const root = player.root;
  const play = root.querySelector("[data-action=play]");
  const scrub = root.querySelector("[data-scrub]");
  const time = root.querySelector("[data-time]");
  const speed = root.querySelector("[data-speed]");
  const loop = root.querySelector("[data-loop]");
  play?.addEventListener("click", () => player.toggle());
  root.querySelector("[data-action=back]")?.addEventListener("click", () => player.step(-1));
  root.querySelector("[data-action=forward]")?.addEventListener("click", () => player.step(1));
  scrub?.addEventListener("input", () => player.seek((Number(scrub.value) / 1000) * player.duration()));
  if (speed) {
    player.setRate(Number(speed.value));
    speed.addEventListener("change", () => player.setRate(Number(speed.value)));
  }
  if (loop) player.loops = () => loop.checked;
  const draw = () => {
    const d = player.duration();
    const t = player.time();
    if (play) play.textContent = player.playing ? "Pause" : "Play";
    if (scrub && d) scrub.value = String(Math.round(Math.min(1, t / d) * 1000));
    if (time) {
      const frame = time.dataset.time === "frame" ? ` · frame ${frameAt(t, player.fps)}` : "";
      time.textContent = `${t.toFixed(2)} / ${d.toFixed(2)}${frame}`;
    }
  };
  root.addEventListener("player:draw", draw);
  draw();
}

// -- fitting the window ----------------------------------------------------------------------
// A player's picture is as large as the window allows with its controls still in sight: the
// CSS bounds its height by 100svh less what stands above the picture (--above) and the controls
// under it down to the position bar, Play and the frame steps (--below), and gives it the
// clip's shape (--ratio, from data-width and data-height, so nothing jumps when the video
// loads; the video's own size when they are missing). A picture that starts too far down the
// page for a useful size on the first screen is fitted for when the page is scrolled to it,
// under the sticky top bar.
const FIRST_SCREEN = 0.6; // of the window's height: further down, fit it when scrolled to
const MARGIN = 12; // px under the lowest control

export function shapeOf(root, video = null) {
  const width = Number(root.dataset.width) || video?.videoWidth || 0;
  const height = Number(root.dataset.height) || video?.videoHeight || 0;
  return width && height ? width / height : 0;
}

export function fitToWindow(root, stage, video = null) {
  const shape = () => {
    const ratio = shapeOf(root, video);
    if (ratio) root.style.setProperty("--ratio", String(ratio));
  };
  const measure = () => {
    const box = stage.getBoundingClientRect();
    const lowest = [...root.querySelectorAll("[data-action=play], [data-action=back], [data-scrub]")]
      .map((control) => control.getBoundingClientRect())
      .filter((rect) => rect.height > 0)
      .reduce((low, rect) => Math.max(low, rect.bottom), box.bottom);
    const top = box.top + window.scrollY;
    const bar = document.querySelector(".topbar")?.getBoundingClientRect().height || 0;
    const above = top <= window.innerHeight * FIRST_SCREEN ? top : bar + MARGIN;
    root.style.setProperty("--above", `${Math.round(above)}px`);
    root.style.setProperty("--below", `${Math.round(lowest - box.bottom + MARGIN)}px`);
  };
  shape();
  measure();
  if (video && !shapeOf(root)) video.addEventListener("loadedmetadata", shape, { once: true });
  // The controls wrap differently at another width; what stands above may grow (a live status).
  new ResizeObserver(() => measure()).observe(root);
  window.addEventListener("resize", measure);
  return measure;
}

// The player `node` belongs to, or else the page's (each page has one).
export function playerFor(node) {
  for (const player of registry) {
    if (!player.root.isConnected) registry.delete(player);
  }
  const players = [...registry];
  return players.find((p) => node instanceof Node && p.root.contains(node)) || players[0];
}

// The keys work anywhere on the page, except where the key already means something: typing in
// a form field, Space on a button or link (it presses it), a slider's own arrows (the position
// slider's; the wipe divider handles its arrows first and stops them). Shortcuts with Ctrl,
// Alt or Meta are the browser's (Ctrl+W, Ctrl+F). Space and K play and pause, ←/→ and ,/.
// step one frame, J/L jump one second back/forward (playing on if playing).
const TYPING = "input:not([type=range]):not([type=checkbox]), textarea, select, [contenteditable]:not([contenteditable=false])";
const PRESSABLE = "button, a[href], summary, input, [role=button], [role=link], [role=checkbox], [role=menuitem]";

// The key as the keyboard handlers compare it, or null where keys are not the page's.
export function pageKey(event) {
  if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return null;
  const target = event.target instanceof Element ? event.target : document.body;
  if (target.closest(TYPING)) return null;
  // A modal dialog (dialog.js) is what the keys are for while it is open, not the player behind.
  if (document.querySelector("dialog[open]")) return null;
  return event.key.length === 1 ? event.key.toLowerCase() : event.key;
}

document.addEventListener("keydown", (event) => {
  const key = pageKey(event);
  if (key === null) return;
  const target = event.target instanceof Element ? event.target : document.body;
  const player = playerFor(target);
  if (!player) return;
  if (key === " ") {
    if (target.closest(PRESSABLE)) return;
    event.preventDefault();
    if (!event.repeat) player.toggle();
  } else if (key === "k") {
    if (!event.repeat) player.toggle();
  } else if (key === "ArrowLeft" || key === "ArrowRight" || key === "," || key === ".") {
    if (target.matches("input[type=range]")) return; // the slider's own arrows
    event.preventDefault();
    player.step(key === "ArrowLeft" || key === "," ? -1 : 1);
  } else if (key === "j" || key === "l") {
    player.jump(key === "j" ? -1 : 1);
  } else if (Object.hasOwn(player.extraKeys, key) && !event.repeat) {
    player.extraKeys[key]();
  }
});
