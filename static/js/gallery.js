import { postForm } from "./net.js";

// Hover (or focus) a card to preview the take; the video loads only then.
for (const link of document.querySelectorAll("a.thumb[data-preview]")) {
  let video = null;
  const start = () => {
    if (!video) {
      video = document.createElement("video");
      video.muted = true;
      video.loop = true;
      video.playsInline = true;
      video.preload = "none";
      video.src = link.dataset.preview;
      link.append(video);
    }
    video.play().catch(() => {});
  };
  const stop = () => video?.pause();
  link.addEventListener("pointerenter", start);
  link.addEventListener("focus", start);
  link.addEventListener("pointerleave", stop);
  link.addEventListener("blur", stop);
}

// Stars toggle in place: the form is sent with fetch, so the page neither reloads nor jumps to
// the top. Without JavaScript (or if fetch fails) the form posts and reloads as before.
for (const form of document.querySelectorAll("form[data-star]")) {
  const button = form.querySelector("button");
  const wanted = form.elements.namedItem("starred");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    try {
      const { ok, status, data } = await postForm(form);
      if (!ok) throw new Error(`star: HTTP ${status}`);
      const { starred } = data;
      button.setAttribute("aria-pressed", String(starred));
      button.setAttribute("aria-label", starred ? button.dataset.labelOn : button.dataset.labelOff);
      button.textContent = starred ? "★" : "☆";
      wanted.value = starred ? "0" : "1";
    } catch {
      form.submit(); // fall back to the plain form: it reloads, but the star is saved
    } finally {
      button.disabled = false;
    }
  });
}

// On a phone the filters fold behind "Filters (N)" (the CSS hides them while aria-expanded is
// false), so the first card is on the first screen.
const filtersToggle = document.querySelector("button[data-filters-toggle]");
filtersToggle?.addEventListener("click", () => {
  const open = filtersToggle.getAttribute("aria-expanded") !== "true";
  filtersToggle.setAttribute("aria-expanded", String(open));
  if (open) document.getElementById("gallery-filters")?.querySelector("select, input")?.focus();
});

// Bulk actions: count the ticked cards, keep the bar in view while some are ticked, and make
// "Select all on this page" tick (and untick) the boxes in place instead of reloading.
const bulk = document.querySelector("form[data-bulk]");
if (bulk) {
  const boxes = () => [...document.querySelectorAll("input[data-pick]")];
  const said = bulk.querySelector("[data-bulk-count]");
  const all = bulk.querySelector("[data-select-all]");
  const actions = bulk.querySelectorAll("button[name=action]");
  const update = () => {
    const ticked = boxes().filter((box) => box.checked).length;
    said.textContent = ticked ? `${ticked} selected` : "Tick takes to act on several at once.";
    bulk.classList.toggle("is-active", ticked > 0);
    for (const button of actions) button.disabled = ticked === 0;
    const every = ticked > 0 && ticked === boxes().length;
    all.textContent = every ? "Clear the selection" : "Select all on this page";
  };
  document.addEventListener("change", (event) => {
    if (event.target.matches?.("input[data-pick]")) update();
  });
  all.addEventListener("click", (event) => {
    event.preventDefault();
    const every = boxes().every((box) => box.checked);
    for (const box of boxes()) box.checked = !every;
    update();
  });
  update();
}
