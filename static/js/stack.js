// The clip page's version stack: tick versions to compare two or play 2-4 in the grid. The
// stack refreshes itself while a take is being made (live.js swaps the whole section), so the
// ticked boxes are remembered here and ticked again in the fresh copy.
const picked = new Set();

function count(section) {
  const said = section.querySelector("[data-pick-count]");
  if (!said) return;
  const n = picked.size;
  said.textContent = n ? `${n} ticked.` : "";
}

function restore(section) {
  for (const box of section.querySelectorAll("input[name=take][form=stack-pick]")) {
    box.checked = picked.has(box.value);
  }
  count(section);
}

document.addEventListener("change", (event) => {
  const box = event.target.closest?.("input[name=take][form=stack-pick]");
  if (!box) return;
  if (box.checked) picked.add(box.value);
  else picked.delete(box.value);
  count(box.closest("#clip-takes"));
});

document.addEventListener("live:updated", (event) => {
  if (event.detail?.id === "clip-takes") restore(event.detail);
});

const section = document.getElementById("clip-takes");
if (section) {
  for (const box of section.querySelectorAll("input[name=take][form=stack-pick]:checked")) picked.add(box.value);
  count(section);
}
