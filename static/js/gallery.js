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
