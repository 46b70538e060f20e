// Gallery niceties; every action also works without them.
(() => {
  const selected = () => document.querySelectorAll('input[name="ids"][form="selection"]:checked');

  function announce(text) {
    const status = document.getElementById("gallery-status");
    if (status) status.textContent = text;
  }

  function refresh() {
    const count = selected().length;
    const text = count ? `${count} selected` : "";
    document.querySelectorAll("[data-selected-count]").forEach((el) => { el.textContent = text; });
    return text;
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="ids"][form="selection"]').forEach((b) => { b.checked = box.checked; });
    }
    if (box.matches('[data-select-all], input[name="ids"]')) announce(refresh() || "Nothing selected");
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("[data-selection]") && !selected().length) {
      event.preventDefault();
      const text = "Select one or more outputs first.";
      document.querySelectorAll("[data-selected-count]").forEach((el) => { el.textContent = text; });
      announce(text);
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

  // htmx swaps no 4xx by itself. A refusal the server renders as a fragment names where it
  // goes (HX-Retarget, see gallery/views.py): show it there like any answer, so the message
  // replaces what the refused request would have changed.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const { xhr } = event.detail;
    if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Anything else that fails (a 5xx, a 403, the network): say so and mark the results as stale.
  function failed(event) {
    const results = document.getElementById("results");
    const problem = document.getElementById("gallery-problem");
    if (!results || !problem || !results.contains(event.detail.target) && event.detail.target !== results) return;
    const status = event.detail.xhr && event.detail.xhr.status;
    problem.textContent = status
      ? `The gallery could not be updated (error ${status}); what is shown may be out of date. Try again.`
      : "The gallery could not be reached; what is shown may be out of date. Check the connection and try again.";
    problem.hidden = false;
    results.classList.add("is-stale");
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);

  document.addEventListener("htmx:afterSwap", (event) => {
    const problem = document.getElementById("gallery-problem");
    if (problem && event.detail.target.id === "results") problem.hidden = true;
    refresh();
  });
})();
