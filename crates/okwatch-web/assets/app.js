// okwatch console: keyboard shortcuts and copying. Everything works without it.
"use strict";
document.addEventListener("keydown", (event) => {
  const form = document.getElementById("search");
  // Ctrl+Enter (Cmd+Enter on a Mac) runs the search from any field.
  if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
    return;
  }
  // "/" jumps to the filter box, as in most log tools.
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    const filter = document.getElementById("filter");
    if (filter) {
      event.preventDefault();
      filter.focus();
    }
  }
});
// A preset chosen in the time menu searches at once.
document.addEventListener("change", (event) => {
  if (event.target.id === "since" && event.target.form) {
    // A preset is a range up to now: the end of a zoomed-in range no longer applies.
    const until = event.target.form.querySelector("input[name=until]");
    if (until && !event.target.selectedOptions[0].textContent.startsWith("From")) until.remove();
    event.target.form.requestSubmit();
  }
});
// Enter in the one-line filter box searches; Shift+Enter adds a line.
document.addEventListener("keydown", (event) => {
  if (event.target.id === "filter" && event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    event.target.form.requestSubmit();
  }
});
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (_) {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById(button.dataset.copy));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});
