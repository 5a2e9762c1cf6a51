// The clip page: its preview (one video, with the browser's controls and the players' keys and
// frame steps), the live preview while it is being prepared and the live version stack
// (live.js), the ticked versions (stack.js) and the comments.
import "./live.js";
import "./stack.js";
import "./comments.js";
import { Player } from "./players.js";

function setUp(scope) {
  const root = scope.id === "player" ? scope : scope.querySelector?.("#player");
  if (root && root.querySelector("video") && !root.dataset.ready) {
    root.dataset.ready = "true";
    new Player(root);
  }
}

setUp(document);
// The preview is swapped in by live.js when the clip is ready.
document.addEventListener("live:updated", (event) => setUp(event.detail));
