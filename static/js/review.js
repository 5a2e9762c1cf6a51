// A take's review status, set in place: the take page's segmented control and the variation
// grid's Approve buttons (forms with data-review-form). The form is sent with fetch, and every
// part of the page that shows that take's status follows: its badge, who set it, the pressed
// button, and data-review on the take's container (the CSS marks an approved one). Without
// JavaScript, or if fetch fails, the form posts and the page comes back.
import { postForm } from "./net.js";

function show(code, data) {
  for (const holder of document.querySelectorAll(`[data-review-take="${CSS.escape(code)}"]`)) {
    holder.dataset.review = data.status;
    for (const button of holder.querySelectorAll("[data-review-form] button[name=status]")) {
      const pressed = button.value === data.status;
      button.setAttribute("aria-pressed", String(pressed));
      const text = button.querySelector("[data-approve-text]");
      if (text) text.textContent = pressed ? "Approved" : "Approve";
    }
  }
  for (const badge of document.querySelectorAll(`[data-review-badge="${CSS.escape(code)}"]`)) {
    badge.textContent = data.label;
    for (const name of [...badge.classList]) {
      if (name.startsWith("review-") && name !== "review-badge") badge.classList.remove(name);
    }
    badge.classList.add(`review-${data.status}`);
  }
  for (const who of document.querySelectorAll(`[data-review-who="${CSS.escape(code)}"]`)) {
    who.textContent = data.who;
  }
  document.dispatchEvent(new CustomEvent("review:changed", { detail: data }));
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest?.("form[data-review-form]");
  if (!form || event.defaultPrevented) return;
  event.preventDefault();
  const button = event.submitter;
  const holder = form.closest("[data-review-take]");
  const said = holder?.querySelector("[data-review-said]");
  const body = new FormData(form, button);
  for (const each of form.querySelectorAll("button")) each.disabled = true;
  try {
    const { ok, status, data } = await postForm(form, { body });
    if (status === 400 && data.error) {
      if (said) said.textContent = data.error;
      return;
    }
    if (!ok || !data.ok) throw new Error(`review: HTTP ${status}`);
    show(data.code, data);
    if (said) said.textContent = `Review status: ${data.label}.`;
  } catch {
    // Fall back to the plain form (it reloads, and the status is saved).
    if (button) {
      const field = document.createElement("input");
      field.type = "hidden";
      field.name = button.name;
      field.value = button.value;
      form.append(field);
    }
    form.submit();
  } finally {
    for (const each of form.querySelectorAll("button")) each.disabled = false;
  }
});
