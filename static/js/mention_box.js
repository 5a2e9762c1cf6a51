// The "@" suggestion list of a comment box (the WAI-ARIA combobox pattern with a listbox
// popup): typing "@" in a comment or reply box lists the team's members; Up and Down move
// through them (aria-activedescendant keeps the focus in the box), Enter or a click or tap
// puts "@Name " in the text, Escape closes the list. A status line says how many match.
// What is inserted is what studio/review/mentions.py reads: "@" and the member's name.

const boxes = new WeakSet();
let made = 0;

// The "@word" being typed just before the caret (a name may have spaces: "@Ann Lee").
const TYPING = /(?:^|\s)@([^@\n]{0,40})$/;

let listening = false;

export function mentionBoxes(root, names) {
  if (!names.length) return;
  const attach = (field) => {
    if (!(field instanceof HTMLTextAreaElement) || field.name !== "body" || boxes.has(field)) return;
    // The panel's own boxes: the comment box (which moves beside the player when it opens)
    // and the reply boxes in its threads.
    if (!root.contains(field) && !field.closest("[data-comment-form]")) return;
    boxes.add(field);
    new MentionBox(field, names);
  };
  // Reply boxes come and go with live updates: each is set up when it first gets the focus.
  if (!listening) document.addEventListener("focusin", (event) => attach(event.target));
  listening = true;
  attach(document.activeElement);
}

class MentionBox {
  constructor(field, names) {
    this.field = field;
    this.names = names;
    this.matches = [];
    this.active = -1;
    this.start = -1; // where the "@" being completed is in the text
    made += 1;
    const id = `mention-list-${made}`;
    this.list = document.createElement("ul");
    this.list.id = id;
    this.list.className = "mention-list";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Members to mention");
    this.list.hidden = true;
    this.status = document.createElement("p");
    this.status.className = "visually-hidden";
    this.status.setAttribute("role", "status");
    field.after(this.list, this.status);
    field.parentElement.classList.add("mention-box");
    field.setAttribute("role", "combobox");
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", id);
    field.setAttribute("aria-expanded", "false");

    field.addEventListener("input", () => this.update());
    field.addEventListener("click", () => this.update());
    field.addEventListener("keydown", (event) => this.key(event));
    field.addEventListener("blur", () => this.close());
    // A press on an option must not take the focus from the box (that would close the list).
    this.list.addEventListener("pointerdown", (event) => event.preventDefault());
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.choose(Number(option.dataset.index));
    });
  }

  update() {
    const field = this.field;
    const before = field.value.slice(0, field.selectionStart);
    const typing = field.selectionStart === field.selectionEnd && TYPING.exec(before);
    if (!typing) return this.close();
    const query = typing[1].toLowerCase();
    const matches = this.names.filter((name) => {
      const lower = name.toLowerCase();
      return lower.startsWith(query) || lower.split(/\s+/).some((word) => word.startsWith(query));
    });
    // A space after a whole name that matches nothing more: the person has moved on.
    if (!matches.length && /\s$/.test(typing[1])) return this.close();
    this.start = before.length - typing[1].length - 1;
    this.show(matches);
  }

  show(matches) {
    this.matches = matches;
    this.list.replaceChildren(
      ...matches.map((name, index) => {
        const option = document.createElement("li");
        option.id = `${this.list.id}-${index}`;
        option.className = "mention-option";
        option.setAttribute("role", "option");
        option.dataset.index = String(index);
        option.textContent = name;
        return option;
      }),
    );
    this.list.hidden = !matches.length;
    this.field.setAttribute("aria-expanded", matches.length ? "true" : "false");
    this.say(
      matches.length
        ? `${matches.length} ${matches.length === 1 ? "member" : "members"} to mention. Up and Down to choose, Enter to mention, Escape to close.`
        : "No member by that name.",
    );
    this.move(matches.length ? 0 : -1);
  }

  say(text) {
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  move(index) {
    this.active = index;
    for (const option of this.list.children) {
      option.setAttribute("aria-selected", option.dataset.index === String(index) ? "true" : "false");
    }
    const current = index >= 0 ? this.list.children[index] : null;
    if (current) {
      this.field.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.field.removeAttribute("aria-activedescendant");
    }
  }

  get open() {
    return !this.list.hidden;
  }

  key(event) {
    if (!this.open || event.isComposing) return;
    const count = this.matches.length;
    let handled = true;
    if (event.key === "ArrowDown") this.move((this.active + 1) % count);
    else if (event.key === "ArrowUp") this.move((this.active - 1 + count) % count);
    else if (event.key === "Enter") {
      if (this.active < 0) handled = false;
      else this.choose(this.active);
    } else if (event.key === "Escape") this.close();
    else handled = false;
    if (handled) {
      // The page's own keys (Escape closes the comment box, the player's shortcuts) wait.
      event.preventDefault();
      event.stopPropagation();
    }
  }

  choose(index) {
    const name = this.matches[index];
    if (name === undefined || this.start < 0) return;
    const field = this.field;
    const text = `@${name} `;
    const end = field.selectionStart;
    field.value = field.value.slice(0, this.start) + text + field.value.slice(end);
    const caret = this.start + text.length;
    field.setSelectionRange(caret, caret);
    field.focus();
    this.close();
    this.say(`${name} mentioned.`);
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  close() {
    if (!this.open && this.field.getAttribute("aria-expanded") === "false") return;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.matches = [];
    this.active = -1;
    this.field.setAttribute("aria-expanded", "false");
    this.field.removeAttribute("aria-activedescendant");
  }
}
