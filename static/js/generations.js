// Upload progress, prompt character counts and error swaps for the asset and generation pages;
// the queue's hover previews and the running clocks of generations in flight.
// Every page works without this file: forms post normally and the server checks everything.
(function () {
  "use strict";

  // Count like the server (and Runway): UTF-16 code units, so an emoji counts as two.
  function utf16Length(text) {
    return text.length; // JavaScript strings are UTF-16 already
  }

  function updateCounter(textarea) {
    const counter = document.getElementById(textarea.id + "_count");
    if (!counter) return;
    const max = parseInt(textarea.dataset.maxLength || "0", 10);
    const n = utf16Length(textarea.value);
    counter.textContent = max ? n + " / " + max + " characters" : n + " characters";
    counter.classList.toggle("over", Boolean(max) && n > max);
  }

  function initCounters(root) {
    root.querySelectorAll("textarea[data-max-length]").forEach(updateCounter);
  }

  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches("textarea[data-max-length]")) updateCounter(event.target);
  });

  // Refused uploads, invalid forms and a cancel Runway didn't take come back as 400/409/413/502
  // with the form or card and its message: swap them in like a success instead of dropping them.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if ([400, 409, 413, 502].includes(event.detail.xhr.status)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function uploadParts(form) {
    return {
      box: form.querySelector(".upload-progress"),
      bar: form.querySelector(".upload-progress progress"),
      status: form.querySelector(".upload-status"),
      button: form.querySelector("button[type=submit]"),
    };
  }

  // Refuse a file over the limit before sending 200 MB for nothing; the server checks again.
  document.addEventListener("htmx:confirm", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("form[data-upload]")) return;
    const input = form.querySelector("input[type=file]");
    const file = input && input.files && input.files[0];
    const max = parseInt((input && input.dataset.maxBytes) || "0", 10);
    if (file && max && file.size > max) {
      event.preventDefault();
      uploadParts(form).status.textContent =
        "This file is larger than " + Math.round(max / 1048576) + " MB, the most Runway accepts.";
    }
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("form[data-upload]")) return;
    const parts = uploadParts(form);
    parts.box.hidden = false;
    parts.bar.value = 0;
    parts.status.textContent = "";
    parts.button.disabled = true;
  });

  document.addEventListener("htmx:xhr:progress", (event) => {
    const form = event.target.closest && event.target.closest("form[data-upload]");
    if (!form || !event.detail.lengthComputable) return;
    const parts = uploadParts(form);
    const percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    parts.bar.value = percent;
    parts.status.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Checking the file…";
  });

  document.addEventListener("htmx:sendError", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("form[data-upload]")) return;
    const parts = uploadParts(form);
    parts.button.disabled = false;
    parts.box.hidden = true;
    parts.status.textContent = "The upload was interrupted (the file may be too large, or the connection dropped). Try again.";
  });

  // The queue's posters: a video plays, muted, while the pointer or the keyboard is on its tile.
  const still = window.matchMedia("(prefers-reduced-motion: reduce)");

  function hoverVideo(event) {
    const tile = event.target.closest && event.target.closest(".gen-tile");
    return tile && tile.querySelector("video[data-hover-play]");
  }

  function startPreview(event) {
    const video = hoverVideo(event);
    if (!video || still.matches) return;
    video.play().catch(() => {}); // a refused autoplay leaves the poster, which is fine
  }

  function stopPreview(event) {
    const video = hoverVideo(event);
    if (!video || (event.relatedTarget && video.closest(".gen-tile").contains(event.relatedTarget))) return;
    video.pause();
  }

  document.addEventListener("mouseover", startPreview);
  document.addEventListener("mouseout", stopPreview);
  document.addEventListener("focusin", startPreview);
  document.addEventListener("focusout", stopPreview);

  // "running for …" counts on between the page's updates, in the server's words.
  function elapsedText(seconds) {
    if (seconds < 60) return seconds + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  // The time left, rounded as generations/eta.py rounds it.
  function spanText(seconds) {
    if (seconds < 60) return seconds + " s";
    const minutes = Math.round(seconds / 60);
    return minutes < 60 ? minutes + " min" : Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  setInterval(() => {
    const now = Date.now() / 1000;
    document.querySelectorAll("[data-since]").forEach((el) => {
      const since = parseInt(el.dataset.since, 10);
      if (since) el.textContent = "running for " + elapsedText(Math.max(0, Math.floor(now - since)));
    });
    document.querySelectorAll("[data-until]").forEach((el) => {
      const left = parseInt(el.dataset.until, 10) - Math.floor(now);
      el.textContent = left > 0 ? "about " + spanText(left) + " left" : "taking longer than usual";
    });
  }, 1000);

  document.addEventListener("htmx:afterSwap", (event) => initCounters(event.target));
  document.addEventListener("DOMContentLoaded", () => initCounters(document));
})();
