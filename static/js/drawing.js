// Drawings on a frame: a canvas laid over the picture of one video, that shows a comment's
// shapes or lets the person draw new ones with a mouse, finger or pen (pointer events).
// Shapes are stored as the server keeps them (studio/services/comments.py drawing_clean):
// {kind: "rect" | "arrow" | "pen", colour, points: [[x, y], ...]} with x and y from 0 to 1
// across the picture, so a drawing lands on the same spot at any player size.
const MAX_SHAPES = 20;
const MAX_POINTS = 400;
const MIN_SIZE = 0.01; // a rectangle or arrow smaller than this (a click) is not kept
const PEN_STEP = 0.004; // freehand points closer together than this are skipped

const clamp = (value) => Math.min(1, Math.max(0, value));
const round = (value) => Math.round(value * 10000) / 10000;

// Where the video's picture is inside the stage: a video element letterboxes its picture
// (object-fit: contain), and the drawing belongs on the picture, not on the black bars.
function pictureBox(video, stage) {
  const v = video.getBoundingClientRect();
  const s = stage.getBoundingClientRect();
  const width = video.videoWidth || v.width;
  const height = video.videoHeight || v.height;
  const scale = Math.min(v.width / width, v.height / height) || 0;
  const w = width * scale;
  const h = height * scale;
  return {
    x: v.left - s.left - stage.clientLeft + (v.width - w) / 2,
    y: v.top - s.top - stage.clientTop + (v.height - h) / 2,
    w,
    h,
  };
}

function paint(canvas, shapes, colours) {
  const ctx = canvas.getContext("2d");
  const { width: W, height: H } = canvas;
  ctx.clearRect(0, 0, W, H);
  const dpr = window.devicePixelRatio || 1;
  const line = Math.max(2 * dpr, Math.min(W, H) / 110);
  ctx.lineWidth = line;
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  // A dark halo keeps white and yellow lines visible on a bright picture.
  ctx.shadowColor = "rgba(0, 0, 0, 0.75)";
  ctx.shadowBlur = 2 * dpr;
  for (const shape of shapes) {
    ctx.strokeStyle = colours[shape.colour] || "#ffffff";
    const points = shape.points.map(([x, y]) => [x * W, y * H]);
    ctx.beginPath();
    if (shape.kind === "rect") {
      const [[x1, y1], [x2, y2]] = points;
      ctx.rect(Math.min(x1, x2), Math.min(y1, y2), Math.abs(x2 - x1), Math.abs(y2 - y1));
    } else if (shape.kind === "arrow") {
      const [[x1, y1], [x2, y2]] = points;
      const angle = Math.atan2(y2 - y1, x2 - x1);
      const head = Math.max(line * 4, Math.hypot(x2 - x1, y2 - y1) * 0.15);
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
      for (const turn of [Math.PI * 0.82, -Math.PI * 0.82]) {
        ctx.moveTo(x2, y2);
        ctx.lineTo(x2 + head * Math.cos(angle + turn), y2 + head * Math.sin(angle + turn));
      }
    } else {
      ctx.moveTo(...points[0]);
      for (const point of points.slice(1)) ctx.lineTo(...point);
    }
    ctx.stroke();
  }
}

export class Layer {
  constructor(stage, colours) {
    this.stage = stage;
    this.colours = colours;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "drawing-layer";
    this.canvas.hidden = true;
    // The canvas is pointer-only; the tool buttons and the comment box are the keyboard way.
    this.canvas.setAttribute("aria-hidden", "true");
    stage.classList.add("comment-stage");
    stage.append(this.canvas);
    this.video = null;
    this.viewing = [];
    this.editing = null; // {shapes, tool, colour, onChange} while the comment box is open
    this.current = null;
    new ResizeObserver(() => this.place()).observe(stage);
    document.addEventListener("fullscreenchange", () => this.place());
    this.canvas.addEventListener("pointerdown", (event) => this.down(event));
    this.canvas.addEventListener("pointermove", (event) => this.move(event));
    this.canvas.addEventListener("pointerup", (event) => this.up(event));
    this.canvas.addEventListener("pointercancel", (event) => this.up(event));
  }

  get shapes() {
    return this.editing ? this.editing.shapes : this.viewing;
  }

  // Lay the canvas over `video`'s picture (again, when the player changes size).
  place(video = this.video) {
    this.video = video;
    if (!video) return;
    const box = pictureBox(video, this.stage);
    const dpr = window.devicePixelRatio || 1;
    for (const [name, value] of [["--x", box.x], ["--y", box.y], ["--w", box.w], ["--h", box.h]]) {
      this.canvas.style.setProperty(name, `${value}px`);
    }
    this.canvas.width = Math.max(1, Math.round(box.w * dpr));
    this.canvas.height = Math.max(1, Math.round(box.h * dpr));
    this.redraw();
  }

  redraw() {
    const shapes = this.current ? [...this.shapes, this.current] : this.shapes;
    paint(this.canvas, shapes, this.colours);
    this.canvas.hidden = !this.editing && !shapes.length;
  }

  // A comment's drawing, until clear() (playback resumed, another comment chosen).
  show(shapes, video) {
    if (this.editing) return;
    this.viewing = shapes;
    this.place(video);
  }

  clear() {
    this.viewing = [];
    if (!this.editing) this.redraw();
  }

  get showing() {
    return !this.editing && this.viewing.length > 0;
  }

  // Drawing for the comment box: its shapes are kept while the box is closed and opened again.
  edit(video, onChange) {
    this.viewing = [];
    this.editing = this.editing || { shapes: this.draft || [], tool: null, colour: "red" };
    this.editing.onChange = onChange;
    this.canvas.classList.toggle("is-drawing", Boolean(this.editing.tool));
    this.place(video);
  }

  stopEditing({ discard = false } = {}) {
    if (!this.editing) return;
    this.draft = discard ? [] : this.editing.shapes;
    this.editing = null;
    this.current = null;
    this.canvas.classList.remove("is-drawing");
    this.redraw();
  }

  setTool(tool) {
    if (!this.editing) return;
    this.editing.tool = tool;
    this.canvas.classList.toggle("is-drawing", Boolean(tool));
  }

  setColour(colour) {
    if (this.editing) this.editing.colour = colour;
  }

  undo() {
    if (!this.editing) return;
    this.editing.shapes.pop();
    this.changed();
  }

  clearShapes() {
    if (!this.editing) return;
    this.editing.shapes = [];
    this.changed();
  }

  changed() {
    this.redraw();
    this.editing?.onChange?.(this.editing.shapes);
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    return [
      round(clamp((event.clientX - box.left) / box.width)),
      round(clamp((event.clientY - box.top) / box.height)),
    ];
  }

  down(event) {
    const editing = this.editing;
    if (!editing || !editing.tool || event.button > 0) return;
    // The wipe divider listens on the stage: while drawing, the pointer is the pen's.
    event.preventDefault();
    event.stopPropagation();
    if (editing.shapes.length >= MAX_SHAPES) return;
    this.canvas.setPointerCapture(event.pointerId);
    const at = this.point(event);
    this.current = { kind: editing.tool, colour: editing.colour, points: [at, at] };
    this.redraw();
  }

  move(event) {
    if (!this.current) return;
    event.preventDefault();
    const at = this.point(event);
    const points = this.current.points;
    if (this.current.kind === "pen") {
      const last = points[points.length - 1];
      if (points.length < MAX_POINTS && Math.hypot(at[0] - last[0], at[1] - last[1]) >= PEN_STEP) {
        points.push(at);
      }
    } else {
      points[1] = at;
    }
    this.redraw();
  }

  up(event) {
    const shape = this.current;
    if (!shape) return;
    this.current = null;
    if (this.canvas.hasPointerCapture(event.pointerId)) this.canvas.releasePointerCapture(event.pointerId);
    if (shape.kind === "pen") {
      if (shape.points.length > 2) shape.points.shift(); // the doubled first point
    } else {
      const [[x1, y1], [x2, y2]] = shape.points;
      if (Math.abs(x2 - x1) < MIN_SIZE && Math.abs(y2 - y1) < MIN_SIZE) {
        this.redraw();
        return;
      }
    }
    this.editing.shapes.push(shape);
    this.changed();
  }
}
