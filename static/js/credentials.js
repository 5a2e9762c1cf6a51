// The Content credentials panel of a take or render page: reading the credentials checks every
// byte of the stored file, so the page comes first and the panel is read after it, from the
// panel's own page (the link the panel shows without JavaScript).
import { getHTML } from "./net.js";

for (const slot of document.querySelectorAll("[data-credentials-from]")) {
  let page = null;
  try {
    page = await getHTML(slot.dataset.credentialsFrom);
  } catch {
    page = null; // offline for a moment: the link stays
  }
  const fresh = page?.getElementById(slot.id);
  if (fresh && slot.isConnected) {
    fresh.setAttribute("aria-live", "polite");
    slot.replaceWith(document.importNode(fresh, true));
  } else {
    const loading = slot.querySelector("[data-credentials-loading]");
    if (loading) loading.prepend("The content credentials could not be read just now. ");
  }
}
