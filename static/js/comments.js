// The comment panel (templates/review/_comments.html): comments at a frame of the page's player,
// with a drawing on the frame, markers on the player's timeline, threads, and live updates.
//
// It reads everything from the page: its endpoints from data- attributes and form actions (so a
// review link for guests can give its own), the frame rate from data-fps, and the threads from
// their data- attributes. The server renders every thread (one template for the first render,
// form posts, live updates), so this script never builds a comment's markup from its text.
// The player is the page's (players.js): it counts, steps and seeks the frames, at the same
// rate as the server's, so a comment lands on the frame it names.
import { Layer } from "./drawing.js";
import { every } from "./live.js";
import { mentionBoxes } from "./mention_box.js";
import { getJSON, postForm } from "./net.js";
import { FALLBACK_FPS, frameTime, pageKey, playerFor, timecode } from "./players.js";

const POLL_MS = 4000;

// -- where the panel draws on the page's player (players.js moves it) ------------------------
// The compare (take and review pages): its stage, its two sides and its timeline. The clip
// page's lone video: its box, and its position bar (or, without one, a track under the video).
function surface(player) {
  const root = player.root;
  if (root.matches("[data-compare]")) {
    const a = root.querySelector("video[data-side=a]");
    const b = root.querySelector("video[data-side=b]");
    return {
      player,
      root,
      stage: root.querySelector(".compare-stage"),
      videos: [a, b],
      video: (side) => (side === "before" ? a : b),
      timeline: () => root.querySelector("[data-timeline]"),
      controls: () => root.querySelector(".compare-controls"),
      sideAt(event) {
        if (root.dataset.mode === "wipe") {
          const divider = root.querySelector(".wipe-handle").getBoundingClientRect();
          return event.clientX < divider.left ? "before" : "after";
        }
        const figure = event.target.closest?.("figure");
        if (!figure) return null;
        return figure.classList.contains("compare-a") ? "before" : "after";
      },
    };
  }
  const video = root.querySelector("video");
  let track = null;
  return {
    player,
    root,
    stage: video.parentElement,
    videos: [video],
    video: () => video,
    timeline() {
      const bar = root.querySelector("[data-timeline]");
      if (bar && !bar.closest("[hidden]")) return bar;
      if (!track || !track.isConnected) {
        track = document.createElement("div");
        track.className = "comment-track";
        video.after(track);
      }
      return track;
    },
    controls: () => null,
    sideAt: () => "before",
  };
}

// The player of the video the panel names (data-video, the clip page's), or the page's.
function findView(panel) {
  const player = playerFor(panel.dataset.video ? document.querySelector(panel.dataset.video) : null);
  return player?.root.querySelector("video") ? surface(player) : null;
}

// -- talking to the server -------------------------------------------------------------------
async function send(form) {
  try {
    const result = await postForm(form);
    if (result.status === 429 && !result.data.error) result.data.error = "Too many comments at once; wait a minute and try again.";
    return result;
  } catch {
    return { ok: false, data: { error: "Cutroom could not be reached. Check the connection and try again." } };
  }
}

function fromHtml(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim(); // rendered (and escaped) by the server's template
  return template.content.firstElementChild;
}

// -- the panel ------------------------------------------------------------------------------
class Panel {
  constructor(root) {
    this.root = root;
    this.fps = Number(root.dataset.fps) || FALLBACK_FPS; // the server's, for its timecodes
    this.colours = JSON.parse(root.dataset.colours || "{}");
    this.list = root.querySelector("[data-threads]");
    this.box = root.querySelector("[data-comment-form]");
    this.body = this.box.querySelector("textarea[name=body]");
    this.frameInput = this.box.querySelector("[data-box-frame]");
    this.drawingField = this.box.querySelector("[data-box-drawing]");
    this.openButton = root.querySelector("[data-comment-open]");
    this.status = root.querySelector("[data-comment-status]");
    this.error = this.box.querySelector("[data-comment-error]");
    this.tools = this.box.querySelector("[data-draw-tools]");
    this.cursor = root.dataset.cursor || "";
    this.pending = new Map(); // thread code -> html, held back while someone types in it
    this.current = null; // the chosen thread's code
    this.shownFrame = null; // the frame whose drawing is on the player
    this.lookedAt = root.dataset.defaultSide || "after";
    this.view = null; // where it draws on the page's player (surface)
    this.layer = null;
    this.home = this.box.parentElement;
    this.homeNext = this.box.nextElementSibling;

    // With JavaScript, the box opens at a frame (button, C); without it, it is a plain form.
    this.box.hidden = true;
    this.openButton.hidden = false;
    root.querySelector("[data-comment-keys]").hidden = false;
    this.tools.hidden = false;
    this.box.querySelector("[data-comment-cancel]").hidden = false;
    this.wire();
    this.attach();
    this.markers();
    this.guestNames();
    // "@" in any comment or reply box of the panel lists the members to mention.
    mentionBoxes(root, JSON.parse(root.dataset.names || "[]"));
    if (root.dataset.focus) this.openFocus(root.dataset.focus);
    // Every few seconds while the page is in sight (live.js's loop): what changed since.
    this.poller = every(POLL_MS, () => this.poll(), { whileHidden: false });
  }

  wire() {
    const root = this.root;
    this.openButton.addEventListener("click", () => this.open());
    this.box.querySelector("[data-comment-cancel]").addEventListener("click", () => this.close({ focus: true }));
    this.box.addEventListener("submit", (event) => this.submit(event));
    this.frameInput.addEventListener("input", () => this.showTimecode());
    this.frameInput.addEventListener("change", () => this.view?.player.seekFrame(this.boxFrame()));
    for (const radio of this.box.querySelectorAll("[data-box-side]")) {
      radio.addEventListener("change", () => this.layer?.edit(this.view.video(this.boxSide()), () => this.drawn()));
    }
    for (const button of this.tools.querySelectorAll("[data-tool]")) {
      button.addEventListener("click", () => this.pickTool(button));
    }
    for (const button of this.tools.querySelectorAll("[data-colour]")) {
      button.addEventListener("click", () => {
        for (const other of this.tools.querySelectorAll("[data-colour]")) other.setAttribute("aria-pressed", String(other === button));
        this.layer?.setColour(button.dataset.colour);
      });
    }
    this.tools.querySelector("[data-draw=undo]").addEventListener("click", () => this.layer?.undo());
    this.tools.querySelector("[data-draw=clear]").addEventListener("click", () => this.layer?.clearShapes());
    root.addEventListener("click", (event) => {
      const seek = event.target.closest?.("a[data-seek]");
      if (seek) {
        event.preventDefault();
        this.select(seek.dataset.seek, { reveal: true });
        return;
      }
      const filter = event.target.closest?.("a[data-filter]");
      if (filter) {
        event.preventDefault();
        this.filter(filter.dataset.filter);
      }
    });
    root.addEventListener("focusout", () => setTimeout(() => this.flush(), 0));
  }

  // The player may come later (the take finishes while the page is open): look again.
  attach() {
    const found = findView(this.root);
    if (!found || (this.view && this.view.player === found.player)) return;
    this.view = found;
    this.layer = new Layer(found.stage, this.colours);
    found.stage.addEventListener("pointermove", (event) => {
      this.lookedAt = found.sideAt(event) || this.lookedAt;
    });
    for (const video of found.videos) {
      video.addEventListener("play", () => this.hideDrawing());
      video.addEventListener("loadedmetadata", () => this.markers());
    }
    // A comment's drawing belongs to its frame: it goes when the videos move to another.
    found.videos[0].addEventListener("seeked", () => {
      if (this.shownFrame !== null && found.player.frame() !== this.shownFrame) this.hideDrawing();
    });
    const controls = found.controls();
    if (controls && !controls.querySelector("[data-comment-here]")) {
      const here = document.createElement("button");
      here.type = "button";
      here.className = "btn btn-small btn-primary";
      here.dataset.commentHere = "";
      here.setAttribute("aria-keyshortcuts", "C");
      here.textContent = "Comment at this frame";
      here.addEventListener("click", () => this.open());
      controls.append(here);
    }
  }

  // -- the comment box ----------------------------------------------------------------------
  boxFrame() {
    const last = Number(this.frameInput.max) || Infinity;
    return Math.min(last, Math.max(0, Math.round(Number(this.frameInput.value) || 0)));
  }

  boxSide() {
    const checked = this.box.querySelector("[data-box-side]:checked");
    return checked ? checked.value : this.root.dataset.defaultSide;
  }

  showTimecode() {
    for (const out of this.box.querySelectorAll("[data-box-timecode]")) out.textContent = timecode(this.boxFrame(), this.fps);
  }

  // Open the box at the frame on screen, on the side last looked at (pointed at). Pressed
  // again while open, it moves the comment to the frame now shown and keeps what was written.
  open() {
    this.attach();
    if (!this.view) return;
    const player = this.view.player;
    player.pause();
    this.hideDrawing();
    const last = Number(this.frameInput.max);
    this.frameInput.value = String(Math.min(Number.isFinite(last) && last > 0 ? last : Infinity, player.frame()));
    this.showTimecode();
    const side = this.box.querySelector(`[data-box-side][value="${this.lookedAt}"]`);
    if (side) side.checked = true;
    this.error.hidden = true;
    if (this.box.hidden) {
      // Under the player, so the picture stays in sight while drawing.
      this.view.root.after(this.box);
      this.box.hidden = false;
      this.box.classList.add("is-open");
    }
    this.layer.edit(this.view.video(this.boxSide()), () => this.drawn());
    this.drawn();
    // A guest who has not given a name yet starts there; everyone else with the words.
    const name = this.box.querySelector("[data-guest-name]");
    (name && !name.value.trim() ? name : this.body).focus({ preventScroll: true });
    // The picture (to draw on) at the top of the window, the box under it; a box taller than
    // what is left of a small window still shows the words being typed.
    this.view.root.scrollIntoView({ block: "start" });
    if (this.box.getBoundingClientRect().bottom > window.innerHeight) this.body.scrollIntoView({ block: "nearest" });
  }

  close({ focus = false, discard = false } = {}) {
    if (this.box.hidden) return;
    this.box.hidden = true;
    this.box.classList.remove("is-open");
    this.layer?.stopEditing({ discard });
    this.pickTool(null);
    if (focus) this.openButton.focus({ preventScroll: true });
  }

  pickTool(button) {
    const tool = button && button.getAttribute("aria-pressed") !== "true" ? button.dataset.tool : null;
    for (const other of this.tools.querySelectorAll("[data-tool]")) {
      other.setAttribute("aria-pressed", String(other.dataset.tool === tool));
    }
    this.layer?.setTool(tool);
  }

  drawn() {
    const shapes = this.layer?.shapes || [];
    this.drawingField.value = shapes.length ? JSON.stringify(shapes) : "";
    this.tools.querySelector("[data-draw=undo]").disabled = !shapes.length;
    this.tools.querySelector("[data-draw=clear]").disabled = !shapes.length;
  }

  async submit(event) {
    event.preventDefault();
    this.drawn();
    if (!this.body.value.trim()) {
      this.fail("Write something to comment.");
      return;
    }
    this.remember();
    const button = this.box.querySelector("button[type=submit]");
    button.disabled = true;
    const result = await send(this.box);
    button.disabled = false;
    if (!result.ok) {
      if (result.data.closed) this.stop(result.data.error);
      this.fail(result.data.error || "The comment was not posted. Try again.");
      return;
    }
    this.body.value = "";
    this.close({ discard: true });
    this.apply(result.data, true);
    this.say(result.data.note || "Comment posted.");
    const made = result.data.threads?.[0]?.code;
    if (made) this.select(made);
  }

  fail(message) {
    this.error.textContent = message;
    this.error.hidden = false;
    this.body.focus();
  }

  say(message) {
    this.status.textContent = message;
  }

  // -- choosing a comment: seek both sides to its frame and show its drawing -------------------
  async select(code, { reveal = false } = {}) {
    const target = document.getElementById(`c-${code}`);
    const thread = target?.closest(".thread");
    if (!thread) return;
    this.current = thread.dataset.thread;
    for (const other of this.list.querySelectorAll(".thread.is-current")) other.classList.remove("is-current");
    thread.classList.add("is-current");
    this.markers();
    this.attach();
    if (!this.view || thread.dataset.frame === "") return;
    const player = this.view.player;
    if (reveal) this.view.root.scrollIntoView({ block: "nearest" });
    const frame = Number(thread.dataset.frame);
    this.hideDrawing();
    await player.ready();
    await player.seekFrame(frame);
    if (this.current !== thread.dataset.thread) return; // another was chosen meanwhile
    const shapes = JSON.parse(thread.dataset.drawing || "[]");
    // Beside another take, the left video is not the source a drawing may have been made on.
    const onPage = (this.root.dataset.sides || "").split(" ").includes(thread.dataset.side);
    const note = shapes.length && !onPage ? " Its drawing is on the source, which is not shown." : "";
    this.say(`Showing ${thread.dataset.who}’s comment at ${thread.dataset.timecode}.${note}`);
    if (shapes.length && onPage && !this.layer.editing) {
      this.shownFrame = frame;
      this.layer.show(shapes, this.view.video(thread.dataset.side));
    }
  }

  hideDrawing() {
    this.shownFrame = null;
    this.layer?.clear();
  }

  async openFocus(code) {
    const target = document.getElementById(`c-${code}`);
    target?.closest(".thread")?.scrollIntoView({ block: "nearest" });
    await this.select(code, { reveal: true });
  }

  // -- the list, its filter and the markers -----------------------------------------------------
  threads() {
    return [...this.list.querySelectorAll(":scope > .thread")];
  }

  filter(value) {
    this.list.dataset.filter = value;
    for (const link of this.root.querySelectorAll("a[data-filter]")) {
      if (link.dataset.filter === value) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
    this.markers();
  }

  counts() {
    const threads = this.threads();
    const resolved = threads.filter((t) => t.hasAttribute("data-resolved")).length;
    const counts = { all: threads.length, open: threads.length - resolved, resolved };
    for (const out of this.root.querySelectorAll("[data-count]")) out.textContent = String(counts[out.dataset.count]);
    this.root.querySelector("[data-no-comments]").hidden = threads.length > 0;
  }

  // One button per thread shown by the filter, at its frame on the player's timeline.
  markers() {
    const view = this.view;
    const host = view?.timeline();
    if (!host) return;
    host.classList.add("has-markers");
    let layer = host.querySelector(".comment-markers");
    if (!layer) {
      layer = document.createElement("div");
      layer.className = "comment-markers";
      layer.setAttribute("role", "group");
      layer.setAttribute("aria-label", "Comments on the timeline");
      host.append(layer);
    }
    const { player } = view;
    const duration = player.duration();
    const filter = this.list.dataset.filter;
    const buttons = [];
    for (const thread of this.threads()) {
      const { frame, who, timecode: at, colour } = thread.dataset;
      const resolved = thread.hasAttribute("data-resolved");
      if (frame === "" || thread.hasAttribute("data-hidden") || thread.hasAttribute("data-deleted")) continue;
      if ((filter === "open" && resolved) || (filter === "resolved" && !resolved)) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "comment-marker";
      if (colour && colour in this.colours) button.classList.add(`marker-${colour}`);
      button.classList.toggle("is-resolved", resolved);
      button.classList.toggle("is-current", thread.dataset.thread === this.current);
      button.setAttribute("aria-label", `Comment by ${who} at ${at}${resolved ? ", resolved" : ""}`);
      const text = thread.querySelector(".comment-body")?.textContent.trim() || "";
      button.title = `${who}, ${at}: ${text.length > 80 ? `${text.slice(0, 79)}…` : text}`;
      const at01 = duration ? Math.min(1, frameTime(Number(frame), player.fps) / duration) : 0;
      button.style.setProperty("--at", String(at01));
      button.addEventListener("click", () => this.select(thread.dataset.thread));
      buttons.push(button);
    }
    const focused = layer.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
    layer.replaceChildren(...buttons);
    if (focused) buttons.find((b) => b.getAttribute("aria-label") === focused)?.focus();
  }

  // -- live updates ---------------------------------------------------------------------------
  // A thread someone is typing in (or has focus in) is left alone; its update waits.
  busy(thread) {
    if (thread.contains(document.activeElement) && document.activeElement !== document.body) return true;
    return [...thread.querySelectorAll("textarea")].some((t) => t.value !== t.defaultValue);
  }

  swap(old, fresh) {
    const open = [...old.querySelectorAll("details[open][data-keep]")].map((d) => d.dataset.keep);
    for (const key of open) fresh.querySelector(`details[data-keep="${CSS.escape(key)}"]`)?.setAttribute("open", "");
    fresh.classList.toggle("is-current", fresh.dataset.thread === this.current);
    old.replaceWith(fresh);
  }

  insert(fresh, codes) {
    const index = codes ? codes.indexOf(fresh.dataset.thread) : -1;
    const next = index < 0 ? null : codes.slice(index + 1).map((c) => document.getElementById(`c-${c}`)).find((el) => el && el.parentElement === this.list);
    this.list.insertBefore(fresh, next || null);
  }

  apply(data, force = false) {
    const codes = data.codes || null;
    for (const item of data.threads || []) {
      const fresh = fromHtml(item.html);
      const old = document.getElementById(`c-${item.code}`);
      if (old && !force && this.busy(old)) {
        this.pending.set(item.code, item.html);
      } else if (old) {
        this.pending.delete(item.code);
        this.swap(old, fresh);
      } else {
        this.insert(fresh, codes);
      }
    }
    if (codes) {
      const live = new Set(codes);
      for (const thread of this.threads()) {
        if (!live.has(thread.dataset.thread) && (force || !this.busy(thread))) {
          if (thread.dataset.thread === this.current) this.hideDrawing();
          thread.remove();
        }
      }
    }
    this.counts();
    this.markers();
  }

  flush() {
    for (const [code, html] of this.pending) {
      const old = document.getElementById(`c-${code}`);
      if (!old) this.pending.delete(code);
      else if (!this.busy(old)) {
        this.pending.delete(code);
        this.swap(old, fromHtml(html));
        this.counts();
        this.markers();
      }
    }
  }

  // What changed since the last look (the cursor moves only when the answer is applied).
  async poll() {
    if (!this.root.isConnected) {
      this.poller.stop(); // a live update brought a new panel; this one is gone
      return;
    }
    this.flush();
    const url = new URL(this.root.dataset.pollUrl, window.location.href);
    if (this.cursor) url.searchParams.set("since", this.cursor);
    const result = await getJSON(url);
    if (result.ok) {
      this.apply(result.data);
      this.cursor = result.data.cursor || this.cursor;
    } else if (result.status === 404 && result.data.closed) {
      this.stop(result.data.error);
    }
  }

  // A review link revoked (or expired) while its page is open: say so, and stop asking.
  stop(message) {
    this.poller.stop(); // a review link that no longer takes comments: no more asking
    this.root.dataset.closed = "true";
    this.say(message);
  }

  // A guest's name is asked once per visit: it fills the next comment's name field too.
  guestNames() {
    if (!this.root.hasAttribute("data-guest")) return;
    const name = sessionStorage.getItem("cutroom-guest-name") || "";
    for (const input of this.root.querySelectorAll("[data-guest-name]")) input.value ||= name;
  }

  remember() {
    const input = this.box.querySelector("[data-guest-name]");
    if (input?.value) sessionStorage.setItem("cutroom-guest-name", input.value);
  }

  // -- keys anywhere on the page (never while typing); the player's own are players.js's ------
  key(event) {
    if (event.key === "Escape" && !this.box.hidden && this.box.contains(event.target)) {
      this.close({ focus: true });
      return;
    }
    if (pageKey(event) === "c" && !event.repeat) {
      event.preventDefault();
      this.open();
    }
  }
}

let panel = null;

function setUp() {
  const root = document.querySelector("[data-comments]:not([data-ready])");
  if (root) {
    root.dataset.ready = "true";
    panel = new Panel(root);
  } else {
    panel?.attach();
    panel?.markers();
  }
}

// Registered after base.js's (it asks "Delete this comment?" first and may cancel the submit).
document.addEventListener("submit", async (event) => {
  const form = event.target.closest?.("form[data-comment-action]");
  if (!form || !panel || event.defaultPrevented || !panel.root.contains(form)) return;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  panel.remember();
  const result = await send(form);
  if (button) button.disabled = false;
  if (!result.ok) {
    if (result.data.closed) panel.stop(result.data.error);
    else panel.say(result.data.error || "That did not work. Try again.");
    return;
  }
  for (const textarea of form.querySelectorAll("textarea")) textarea.value = textarea.defaultValue = "";
  form.closest("details")?.removeAttribute("open");
  const thread = form.closest(".thread");
  const action = form.getAttribute("action");
  panel.apply(result.data, true);
  panel.say(result.data.note || "Done.");
  // Keep the keyboard where it was: on the same action in the new thread, or on the thread.
  const again = thread && document.getElementById(thread.id);
  const same = again?.querySelector(`form[action="${CSS.escape(action)}"] button[type=submit]`);
  (same || again?.querySelector("a[data-seek], summary"))?.focus({ preventScroll: true });
});

document.addEventListener("keydown", (event) => panel?.key(event));
setUp();
// The take page brings the panel (and the player) in when the take finishes while it is open;
// the clip page brings its player when the preview is ready.
document.addEventListener("live:updated", setUp);
document.addEventListener("player:new", setUp);
