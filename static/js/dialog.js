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

document.addEventListener("click", (event) => {
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
