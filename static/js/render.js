// A cut's render page: the compare player (the source beside the render, both full length),
// the review status and the comments, each its own module as on a take's page.
import { refreshRegions } from "./live.js";
import "./compare.js";
import "./comments.js";
import "./review.js";

// A render that finishes while the page is open: its status part brings the player; the share
// card (a live region) comes with the rest of the page's current state.
document.addEventListener("live:updated", (event) => {
  const status = event.detail;
  if (status.id === "render-status" && !status.hasAttribute("data-pending")) refreshRegions();
});
