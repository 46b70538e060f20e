// Gallery niceties; every action also works without them.
(() => {
  const selected = () => document.querySelectorAll('input[name="ids"][form="selection"]:checked');

  function refresh() {
    const count = selected().length;
    document.querySelectorAll("[data-selected-count]").forEach((el) => {
      el.textContent = count ? `${count} selected` : "";
    });
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="ids"][form="selection"]').forEach((b) => { b.checked = box.checked; });
    }
    if (box.matches('[data-select-all], input[name="ids"]')) refresh();
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("[data-selection]") && !selected().length) {
      event.preventDefault();
      document.querySelectorAll("[data-selected-count]").forEach((el) => { el.textContent = "Select one or more outputs first."; });
    }
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const field = document.querySelector(button.dataset.copy);
    if (!field) return;
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Press Ctrl+C to copy";
    }
  });

  document.addEventListener("htmx:afterSwap", refresh);
})();
