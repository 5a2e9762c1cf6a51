// Confirmation dialogs: a link with data-dialog-open="<id>" opens the <dialog> of that id as a
// modal instead of going to its confirmation page (the link's href, which is where it goes
// without JavaScript). Focus stays inside while it is open (Tab and Shift+Tab wrap around),
// Escape, Cancel or a click beside it closes it, and focus goes back to the link.
const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex='-1'])";

function focusables(dialog) {
  return [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
}

function open(dialog, opener) {
  dialog.showModal();
  document.documentElement.classList.add("dialog-open");
  // Cancel first: the safe choice is the one a stray Enter takes.
  const cancel = dialog.querySelector("[data-dialog-close]") || focusables(dialog)[0];
  cancel?.focus();
  dialog.addEventListener("close", () => {
    document.documentElement.classList.remove("dialog-open");
    opener.focus();
  }, { once: true });
}

function trapTab(event, dialog) {
  const items = focusables(dialog);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

// A link with data-dialog-fetch (the version stack's "Delete…" of each take) has no dialog in
// the page: its confirmation page is fetched and its .delete-page shown in a shared <dialog>,
// its Cancel link turned into a close button. Any failure falls back to following the link.
async function openFetched(opener) {
  const response = await fetch(opener.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const body = page.querySelector(".delete-page");
  if (!body) throw new Error("no confirmation in the page");
  let dialog = document.getElementById("fetched-dialog");
  if (!dialog) {
    dialog = document.createElement("dialog");
    dialog.id = "fetched-dialog";
    dialog.className = "dialog";
    document.body.append(dialog);
  }
  const heading = body.querySelector("h1");
  if (heading) {
    const h2 = document.createElement("h2");
    h2.id = "fetched-dialog-title";
    h2.className = heading.className;
    h2.textContent = heading.textContent;
    heading.replaceWith(h2);
  }
  const cancel = body.querySelector(".dialog-actions a.btn");
  if (cancel) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn";
    button.dataset.dialogClose = "";
    button.textContent = cancel.textContent;
    cancel.replaceWith(button);
  }
  dialog.replaceChildren(...body.childNodes);
  dialog.setAttribute("aria-labelledby", "fetched-dialog-title");
  open(dialog, opener);
}

document.addEventListener("click", (event) => {
  const fetched = event.target.closest?.("a[data-dialog-fetch]");
  if (fetched && typeof HTMLDialogElement === "function") {
    event.preventDefault();
    openFetched(fetched).catch(() => { window.location.href = fetched.href; });
    return;
  }
  const opener = event.target.closest?.("[data-dialog-open]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.dialogOpen);
    if (dialog instanceof HTMLDialogElement && typeof dialog.showModal === "function") {
      event.preventDefault();
      open(dialog, opener);
    }
    return;
  }
  if (event.target.closest?.("[data-dialog-close]")) {
    event.target.closest("dialog")?.close();
    return;
  }
  // A click on the backdrop lands on the dialog element itself, outside its box.
  if (event.target instanceof HTMLDialogElement && event.target.open) {
    const box = event.target.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right
      && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) event.target.close();
  }
});

document.addEventListener("keydown", (event) => {
  const dialog = document.querySelector("dialog[open]");
  if (!dialog) return;
  if (event.key === "Tab") trapTab(event, dialog);
  if (event.key === "Escape") {
    event.preventDefault();
    dialog.close();
  }
});
