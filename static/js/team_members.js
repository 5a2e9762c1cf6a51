// Members page: select the fresh invitation link so it can be copied at once.
const link = document.querySelector("input[data-invite-url]");
if (link) {
  link.focus();
  link.select();
}
