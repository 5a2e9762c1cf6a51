// The verify page: drop a video on the form and it is sent at once (or choose it and press the
// button). Without JavaScript the same form works with its file input and button; this only
// adds the drop and says that the file is being read (reading checks every byte).
const form = document.querySelector("form[data-verify]");

if (form) {
  const input = form.querySelector("input[type=file]");
  const note = form.querySelector("[data-verify-note]");
  const button = form.querySelector("button[type=submit]");

  const send = () => {
    if (!input.files.length) return;
    note.textContent = `Reading ${input.files[0].name}…`;
    button.disabled = true;
    form.submit();
  };

  // The page has one purpose: a video dropped anywhere on it is read (the browser would
  // otherwise open the file in place of the page). The form shows where it lands.
  for (const name of ["dragenter", "dragover"]) {
    document.addEventListener(name, (event) => {
      event.preventDefault();
      form.classList.add("dragging");
    });
  }
  document.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget) form.classList.remove("dragging"); // left the window
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    form.classList.remove("dragging");
    const files = event.dataTransfer?.files;
    if (!files?.length) return;
    if (files.length > 1) {
      note.textContent = "Drop one video at a time.";
      return;
    }
    input.files = files;
    send();
  });
  // Choosing a file does not send it: the button does (a change of page on input would take a
  // keyboard user by surprise).
  form.addEventListener("submit", () => {
    if (input.files.length) note.textContent = `Reading ${input.files[0].name}…`;
  });
  form.dataset.ready = "true";
}

// After a reading, the result is where the page continues: keyboard and screen reader users
// land on it rather than at the top.
document.getElementById("verify-result")?.focus();
