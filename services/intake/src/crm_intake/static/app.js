// Progressive enhancement only: every page works without this file.
// (The language switch deliberately has a button instead of submitting on change:
// changing a select with the arrow keys must not leave the page, WCAG 3.2.2.)
document.addEventListener("DOMContentLoaded", () => {
  // After a refused form, move focus to the list of problems so screen readers hear it.
  const summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
});
