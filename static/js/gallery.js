// Gallery niceties; every action also works without them.
(() => {
  const COMPARE_MAX = 8; // side by side, as many as a grid of variations has
  const selected = () => document.querySelectorAll('input[name="ids"][form="selection"]:checked');

  function announce(text) {
    const status = document.getElementById("gallery-status");
    if (status) status.textContent = text;
  }

  function refresh() {
    const count = selected().length;
    const text = count ? `${count} selected` : "";
    document.querySelectorAll("[data-selected-count]").forEach((el) => { el.textContent = text; });
    document.querySelectorAll("[data-compare]").forEach((button) => {
      const ready = count >= 2 && count <= COMPARE_MAX;
      button.hidden = false;
      button.disabled = !ready;
      button.title = ready ? "" : `Select 2 to ${COMPARE_MAX} outputs to compare them`;
    });
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

  // --- the lightbox (PhotoSwipe, vendored in static/vendor/photoswipe) -------------------
  // Each card holds its slide in an inert <template>; the viewer shows the page's cards with
  // previous/next (buttons and arrow keys), Escape to close, full screen, and gives focus back
  // to the card it was opened from.

  const cards = () => Array.from(document.querySelectorAll("#results [data-card]"));
  const slideOf = (card) => card.querySelector("template[data-slide]").innerHTML;
  const titleOf = (card) => card.querySelector(".lb-title, .title").textContent.trim();

  const FULLSCREEN_SVG = '<svg aria-hidden="true" class="pswp__icn" viewBox="0 0 32 32" width="32" height="32">'
    + '<path d="M8 8h6v2h-4v4H8V8zm10 0h6v6h-2v-4h-4V8zM8 18h2v4h4v2H8v-6zm14 0h2v6h-6v-2h4v-4z"/></svg>';

  function toggleFullscreen(element) {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (element.requestFullscreen) element.requestFullscreen().catch(() => {});
  }

  function openViewer(items, index, label) {
    if (typeof PhotoSwipe === "undefined") return false;
    const viewer = new PhotoSwipe({
      dataSource: items.map((item) => ({ html: item.html, title: item.title })),
      index,
      mainClass: "takes-lightbox",
      bgOpacity: 0.97,
      showHideAnimationType: "none",
      zoom: false,
      loop: false,
      closeOnVerticalDrag: false,
      pinchToClose: false,
      clickToCloseNonZoomable: false,
      bgClickAction: false,
      tapAction: false,
      closeTitle: "Close (Esc)",
      arrowPrevTitle: "Previous (←)",
      arrowNextTitle: "Next (→)",
      errorMsg: "This output could not be shown.",
    });
    // Players, links and the caption take their own clicks and drags.
    viewer.addFilter("preventPointerEvent", (prevent, event) =>
      (event.target.closest("video, audio, a, button, .lb-caption") ? false : prevent));
    viewer.on("uiRegister", () => {
      viewer.ui.registerElement({
        name: "fullscreen", order: 9, isButton: true, title: "Full screen", ariaLabel: "Full screen",
        html: FULLSCREEN_SVG, onClick: () => toggleFullscreen(viewer.element),
      });
      viewer.ui.registerElement({
        name: "announce", appendTo: "root",
        onInit: (el) => {
          el.className = "sr-only";
          el.setAttribute("aria-live", "polite");
          viewer.on("change", () => {
            const slide = viewer.currSlide;
            el.textContent = `${viewer.currIndex + 1} of ${viewer.getNumItems()}: ${slide ? slide.data.title : ""}`;
          });
        },
      });
    });
    viewer.on("firstUpdate", () => {
      viewer.element.setAttribute("aria-label", label);
      viewer.element.setAttribute("aria-modal", "true");
    });
    // Only the slide in view may play.
    viewer.on("change", () => {
      viewer.element.querySelectorAll("video, audio").forEach((media) => {
        if (!viewer.currSlide || !viewer.currSlide.holderElement.contains(media)) media.pause();
      });
    });
    viewer.on("close", () => { if (document.fullscreenElement) document.exitFullscreen(); });
    viewer.init();
    return true;
  }

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open]");
    if (!opener || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const all = cards();
    const index = all.indexOf(opener.closest("[data-card]"));
    if (index < 0) return;
    const items = all.map((card) => ({ html: slideOf(card), title: titleOf(card) }));
    if (openViewer(items, index, "Output viewer")) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-compare]");
    if (!button) return;
    const picked = Array.from(selected(), (box) => box.closest("[data-card]")).filter(Boolean);
    if (picked.length < 2 || picked.length > COMPARE_MAX) {
      announce(`Select 2 to ${COMPARE_MAX} outputs to compare them.`);
      return;
    }
    const html = `<div class="lb-compare" data-count="${picked.length}">${picked.map(slideOf).join("")}</div>`;
    const title = picked.length === 2 ? picked.map(titleOf).join(" and ") : `${picked.length} outputs side by side`;
    openViewer([{ html, title }], 0, `Compare ${picked.length} outputs`);
  });

  // A video card plays its preview, muted, while the mouse is over it.
  const quiet = window.matchMedia("(prefers-reduced-motion: reduce)");
  document.addEventListener("pointerover", (event) => {
    const thumb = event.target.closest("[data-hover-src]");
    if (!thumb || event.pointerType !== "mouse" || quiet.matches || thumb.querySelector("video")) return;
    const video = document.createElement("video");
    Object.assign(video, { src: thumb.dataset.hoverSrc, muted: true, loop: true, playsInline: true, autoplay: true });
    video.setAttribute("aria-hidden", "true");
    video.className = "thumb-hover";
    thumb.querySelector("[data-open]").append(video);
    video.play().catch(() => {});
  });
  document.addEventListener("pointerout", (event) => {
    const thumb = event.target.closest("[data-hover-src]");
    if (thumb && !thumb.contains(event.relatedTarget)) thumb.querySelectorAll("video.thumb-hover").forEach((v) => v.remove());
  });

  // A card's menu closes on Escape, giving focus back to its button.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const menu = event.target.closest("details.card-menu[open]");
    if (!menu) return;
    menu.removeAttribute("open");
    menu.querySelector("summary").focus();
  });

  const fold = document.querySelector("[data-filters-fold]");
  if (fold && window.matchMedia("(max-width: 860px)").matches && !window.location.search) fold.open = false;

  refresh();
})();
