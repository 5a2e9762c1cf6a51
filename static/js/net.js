// Talking to Cutroom's own server, the one way every page does it: same-origin credentials,
// Django's CSRF token (from the form's hidden csrfmiddlewaretoken field) in the X-CSRFToken
// header, and JSON answers read without throwing on an empty or HTML body.
//
// A refused request resolves with ok false and whatever JSON the server said (its error);
// only a network failure rejects (fetch's TypeError), so callers can fall back to the plain
// form, which works without JavaScript.

export function csrfToken(form) {
  return form.elements.namedItem("csrfmiddlewaretoken")?.value || "";
}

async function answer(response) {
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok && data.ok !== false, status: response.status, data };
}

// POST a form's fields to its action. `body` is the form's fields unless given (build it with
// new FormData(form, submitter) before disabling the buttons: a disabled button sends nothing).
export async function postForm(form, { body = new FormData(form) } = {}) {
  const response = await fetch(form.action, {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
  });
  return answer(response);
}

// POST fields ({name: value}) to a URL that has no form of its own (a drag on the cut's
// timeline), with the page's CSRF token from its first form's hidden field.
export async function postFields(url, fields) {
  const form = document.querySelector("form[method='post']");
  const token = form ? csrfToken(form) : "";
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  const response = await fetch(url, {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": token },
  });
  return answer(response);
}

// GET JSON (a poll).
export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  return answer(response);
}

// GET a page or a template partial, parsed; null if the server did not answer 2xx.
export async function getHTML(url) {
  const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok) return null;
  return new DOMParser().parseFromString(await response.text(), "text/html");
}

// POST FormData to a form's action with upload progress (fetch has none): resolves with
// {ok, status, data} like postForm, or {failed: "network" | "aborted"}. `signal` aborts it.
export function upload(form, body, { onProgress, onSent, signal } = {}) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded, event.total);
    });
    xhr.upload.addEventListener("load", () => onSent?.());
    xhr.addEventListener("load", () => {
      let data = {};
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = {};
      }
      const ok = xhr.status >= 200 && xhr.status < 300 && data.ok !== false;
      resolve({ ok, status: xhr.status, data });
    });
    xhr.addEventListener("error", () => resolve({ failed: "network" }));
    xhr.addEventListener("abort", () => resolve({ failed: "aborted" }));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });
}
