// Behaviour shared by every page. Pages work without it; it only smooths things.
document.documentElement.classList.add("js");

// The team switcher submits as soon as a team is picked.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}

// Destructive forms ask first. Delegated, so forms that a live update swaps in ask too.
document.addEventListener("submit", (event) => {
  const form = event.target.closest?.("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Copy buttons: data-copy names the input whose value is copied. The clipboard API first; where
// it is refused (an http page other than localhost, an old browser), the input's text is
// selected and the older copy command tried; failing both, the person is told to press the
// keys. What happened is said in the [data-copy-note] live region beside it.
async function copyText(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest?.("button[data-copy]");
  if (!button) return;
  const input = document.querySelector(button.dataset.copy);
  if (!input) return;
  input.select();
  const copied = await copyText(input);
  const mac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  const text = copied ? "Link copied." : `The link is selected: press ${mac ? "⌘C" : "Ctrl+C"} to copy it.`;
  const note = document.querySelector(`[data-copy-note="${button.dataset.copy}"]`);
  if (note) {
    note.textContent = text;
    clearTimeout(Number(note.dataset.timer));
    note.dataset.timer = String(setTimeout(() => { note.textContent = ""; }, 5000));
  } else {
    button.firstChild.textContent = copied ? "Copied" : "Press Ctrl+C";
    setTimeout(() => { button.firstChild.textContent = "Copy"; }, 2000);
  }
});

// On a phone the main menu folds behind its button (the CSS hides it while aria-expanded is
// false). Escape closes it and gives focus back to the button.
const menuButton = document.querySelector("button[data-menu-toggle]");
if (menuButton) {
  const setOpen = (open) => menuButton.setAttribute("aria-expanded", String(open));
  menuButton.addEventListener("click", () => setOpen(menuButton.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || menuButton.getAttribute("aria-expanded") !== "true") return;
    if (getComputedStyle(menuButton).display === "none") return; // wider screens: no menu to fold
    setOpen(false);
    menuButton.focus();
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".topbar")) setOpen(false);
  });
}

// Media in object storage is served by a redirect to an address that works for a few minutes
// (STUDIO_S3_URL_SECONDS). A player that was paused longer, then seeks, gets a refusal from the
// bucket: ask our own address again (a fresh access check and a fresh link) and carry on where
// it was. Once a minute per element at most, so a file that is really gone stays an error.
const RENEW_AFTER_MS = 60 * 1000;
document.addEventListener("error", (event) => {
  const media = event.target;
  if (!(media instanceof HTMLMediaElement || media instanceof HTMLImageElement)) return;
  const own = media.getAttribute("src");
  if (!own || !own.startsWith("/")) return;  // only our own media addresses
  const last = Number(media.dataset.renewedAt || 0);
  if (Date.now() - last < RENEW_AFTER_MS) return;
  media.dataset.renewedAt = String(Date.now());
  if (media instanceof HTMLImageElement) {
    media.src = own;
    return;
  }
  const at = media.currentTime;
  const playing = !media.paused;
  media.addEventListener("loadedmetadata", () => {
    if (at) media.currentTime = at;
    if (playing) media.play().catch(() => {});
  }, { once: true });
  media.src = own;
  media.load();
}, true);
