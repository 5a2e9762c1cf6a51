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
