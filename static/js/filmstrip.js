// What every timeline of a clip draws the same way: the clip's filmstrip behind a track and a
// time ruler under it. The cut page's timeline (timeline.js) and the edit form's window picker
// (take_form.js) use them.
//
// The filmstrip is one JPEG of small pictures side by side (studio/media/filmstrip.py): picture
// k shows the clip from k * every seconds. Its element carries data-filmstrip (the sprite's
// address), data-filmstrip-tiles, data-filmstrip-every, data-filmstrip-width and
// data-filmstrip-height (one picture's size), as the templates write them.

// The filmstrip's pictures at their own shape, side by side along `layer` (as wide and high as
// the track it lies in): each slot shows the picture of the time at its middle, found in the
// one sprite by its offset. `data` is the dataset that describes the strip; `className` names
// the slots (the cut page's tests and styles know them as cut-film-tile too).
export function drawFilmstrip(layer, data, duration, { className = "film-tile" } = {}) {
  if (!layer || !data.filmstrip) return;
  const tiles = Number(data.filmstripTiles);
  const every = Number(data.filmstripEvery);
  const ratio = Number(data.filmstripWidth) / Number(data.filmstripHeight);
  const width = layer.clientWidth;
  const height = layer.clientHeight;
  if (!tiles || !every || !ratio || !width || !height || !duration) return;
  const tile = height * ratio;
  const slots = [];
  for (let left = 0; left < width; left += tile) {
    const middle = ((left + tile / 2) / width) * duration;
    const index = Math.min(tiles - 1, Math.max(0, Math.floor(middle / every)));
    const slot = document.createElement("span");
    slot.className = className;
    slot.style.left = `${left}px`;
    slot.style.width = `${tile}px`;
    slot.style.backgroundImage = `url("${data.filmstrip}")`;
    slot.style.backgroundSize = `${tiles * tile}px ${height}px`;
    slot.style.backgroundPosition = `${-index * tile}px 0`;
    slots.push(slot);
  }
  layer.replaceChildren(...slots);
}

// A ruler time: 0:05, 1:30, 1:02:03 (and tenths where the marks are closer than a second).
export function rulerLabel(seconds, step = 1) {
  const tenths = step < 1;
  const whole = Math.floor(seconds + 1e-6);
  const [minutes, second] = [Math.floor(whole / 60), whole % 60];
  const [hours, minute] = [Math.floor(minutes / 60), minutes % 60];
  const two = (n) => String(n).padStart(2, "0");
  const fraction = tenths ? `.${Math.round((seconds - whole) * 10) % 10}` : "";
  const tail = `${two(second)}${fraction}`;
  return hours ? `${hours}:${two(minute)}:${tail}` : `${minute}:${tail}`;
}

const STEPS = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];

// Marks along `ruler` (as wide as the track above it) at a round step that leaves at least
// `gap` pixels between two labels; each label is placed by its share of the clip's length.
export function drawRuler(ruler, duration, { gap = 64 } = {}) {
  const width = ruler?.clientWidth;
  if (!width || !duration) return;
  const step = STEPS.find((s) => (s / duration) * width >= gap) || STEPS[STEPS.length - 1];
  const marks = [];
  for (let at = 0; at <= duration + 1e-6; at += step) {
    const mark = document.createElement("span");
    mark.className = "ruler-mark";
    mark.style.left = `${(at / duration) * 100}%`;
    mark.textContent = rulerLabel(at, step);
    marks.push(mark);
  }
  ruler.replaceChildren(...marks);
}
