// The project page: drag-and-drop uploads with a real progress bar (percent, speed, cancel),
// one file after another, and the live clip and image lists. Without JavaScript the forms
// still work as plain uploads.
import { changed } from "./live.js";
import { upload } from "./net.js";

function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatSeconds(seconds) {
  if (!Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s left` : `${Math.floor(s / 60)} min ${s % 60} s left`;
}

function row(list, file) {
  const item = document.createElement("li");
  item.className = "upload-row";
  item.dataset.upload = file.name;
  const name = document.createElement("span");
  name.className = "name strong";
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Uploading ${file.name}`);
  const status = document.createElement("span");
  status.className = "status small muted";
  status.textContent = `Waiting · ${formatBytes(file.size)}`;
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "btn btn-small";
  cancel.textContent = "Cancel";
  item.append(name, bar, status, cancel);
  list.prepend(item);
  return { item, bar, status, cancel };
}

function finish(view, text, kind) {
  view.status.textContent = text;
  view.status.className = `status small ${kind === "error" ? "error-text" : "muted"}`;
  if (kind === "error") view.status.setAttribute("role", "alert");
  else {
    const note = view.item.closest("form")?.querySelector("[data-upload-note]");
    if (note) note.textContent = text;
  }
  view.item.dataset.result = kind;
  view.cancel.remove();
  if (kind !== "uploading") view.bar.remove();
}

async function send(form, file, view) {
  const data = new FormData();
  data.append("upload_key", crypto.randomUUID());
  data.append("file", file, file.name);
  const started = performance.now();
  const cancel = new AbortController();
  view.cancel.addEventListener("click", () => cancel.abort());
  const result = await upload(form, data, {
    signal: cancel.signal,
    onProgress(loaded, total) {
      const percent = (loaded / total) * 100;
      const elapsed = (performance.now() - started) / 1000;
      const speed = elapsed > 0 ? loaded / elapsed : 0;
      view.bar.value = percent;
      view.status.textContent = `${Math.floor(percent)}% · ${formatBytes(speed)}/s · ${formatSeconds((total - loaded) / speed)}`;
    },
    onSent() {
      view.bar.value = 100;
      view.status.textContent = "100% · saving…";
    },
  });
  if (result.failed === "network") {
    finish(view, "The connection was lost during the upload. Nothing was saved; please try again.", "error");
  } else if (result.failed === "aborted") {
    finish(view, "Upload canceled. Nothing was saved.", "canceled");
  } else if (result.ok && result.data.ok) {
    finish(view, result.data.message, "ok");
    follow(view.item, result.data);
    changed();
  } else {
    finish(view, result.data.error || `The upload failed (HTTP ${result.status}). Please try again.`, "error");
  }
}

// Once the file is in, the row follows it on the server (checking, preparing N %, ready, or
// rejected with the reason): live.js swaps in the server's row (templates/library/_upload_row.html)
// until nothing is pending. Changes of state, not every percent, are said in the form's note.
function follow(item, data) {
  if (!data.status || !data.code) return;
  item.id = `upload-${data.code}`;
  item.dataset.refresh = data.status;
  item.setAttribute("data-pending", "");
}

const STATE_WORDS = { received: "checking", processing: "preparing", ready: "ready", rejected: "rejected", failed: "failed" };

const said = new Map(); // row id -> the state last announced

document.addEventListener("live:updated", (event) => {
  const row = event.detail;
  if (!row.matches?.("li.upload-row[data-state]")) return;
  const note = row.closest("form")?.querySelector("[data-upload-note]");
  if (!note || said.get(row.id) === row.dataset.state) return;
  said.set(row.id, row.dataset.state);
  const words = row.querySelector(".status")?.textContent.trim() || STATE_WORDS[row.dataset.state] || "";
  note.textContent = `${row.dataset.upload}: ${words}`;
});

function setUp(form) {
  const input = form.querySelector("input[type=file]");
  const list = form.querySelector(".upload-list");
  const maxBytes = Number(form.dataset.maxBytes);
  const queue = [];
  let busy = false;

  async function pump() {
    if (busy) return;
    busy = true;
    while (queue.length) {
      const { file, view } = queue.shift();
      if (view.item.dataset.result) continue; // canceled while waiting
      await send(form, file, view);
    }
    busy = false;
  }

  function accept(files) {
    for (const file of files) {
      const view = row(list, file);
      if (maxBytes && file.size > maxBytes) {
        finish(view, `${formatBytes(file.size)} is over the ${formatBytes(maxBytes)} limit; nothing was uploaded.`, "error");
        continue;
      }
      if (file.size === 0) {
        finish(view, "The file is empty (0 bytes).", "error");
        continue;
      }
      view.cancel.addEventListener("click", () => finish(view, "Upload canceled. Nothing was saved.", "canceled"), { once: true });
      queue.push({ file, view });
    }
    pump();
  }

  input.addEventListener("change", () => {
    accept([...input.files]);
    input.value = "";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    accept([...input.files]);
    input.value = "";
  });
  for (const name of ["dragenter", "dragover"]) {
    form.addEventListener(name, (event) => {
      event.preventDefault();
      form.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    form.addEventListener(name, () => form.classList.remove("dragging"));
  }
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    accept([...event.dataTransfer.files]);
  });
}

for (const form of document.querySelectorAll("form[data-upload]")) {
  setUp(form);
  form.dataset.ready = "true"; // files chosen from now on upload with progress
  // A file picked before this script ran would otherwise be ignored.
  const input = form.querySelector("input[type=file]");
  if (input.files.length) input.dispatchEvent(new Event("change"));
}
