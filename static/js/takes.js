// Small behaviours every page shares; each page works without them.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // Close an open dropdown menu when clicking elsewhere, or on Escape.
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // --- the project navigation: a menu button on narrow screens -------------------------------------

  function navParts() {
    const toggle = document.querySelector(".project-nav-toggle");
    return toggle ? { toggle, links: document.getElementById(toggle.getAttribute("aria-controls")) } : null;
  }

  function setNavOpen(open, focusFirst) {
    const parts = navParts();
    if (!parts) return;
    parts.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    parts.links.classList.toggle("open", open);
    if (open && focusFirst) {
      const first = parts.links.querySelector("a");
      if (first) first.focus();
    }
  }

  document.addEventListener("click", (event) => {
    const parts = navParts();
    if (!parts) return;
    if (parts.toggle.contains(event.target)) {
      setNavOpen(parts.toggle.getAttribute("aria-expanded") !== "true", event.detail === 0);
    } else if (!parts.links.contains(event.target)) {
      setNavOpen(false);
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
    const parts = navParts();
    if (parts && parts.toggle.getAttribute("aria-expanded") === "true") {
      setNavOpen(false);
      parts.toggle.focus();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    const parts = navParts();
    if (parts) parts.toggle.hidden = false;
  });

  // --- uploads straight into an input slot of the generation form ---------------------------------
  // Each slot is a Dropzone (vendored): drop or choose files, or paste an image. The server answers
  // the slot's new choice, picked, or why it refused the file; nothing typed in the form is touched.

  const zones = new Map(); // slot element → its Dropzone

  function slotKinds(zone) {
    return (zone.dataset.kinds || "").split(",").filter(Boolean);
  }

  function kindOf(file) {
    return (file.type || "").split("/")[0];
  }

  function chosen(zone) {
    return zone.closest("fieldset").querySelector(".picker-grid input:checked:not([value=''])");
  }

  // The slot a file goes to: the one asked for if it takes the kind, else an empty one that does.
  function slotFor(file, preferred) {
    const all = Array.from(zones.keys());
    const fitting = all.filter((zone) => slotKinds(zone).includes(kindOf(file)));
    if (preferred && (fitting.includes(preferred) || !fitting.length)) return preferred;
    return fitting.find((zone) => !chosen(zone)) || fitting[0] || all[0];
  }

  function say(zone, html) {
    zone.querySelector(".slot-status").insertAdjacentHTML("beforeend", html);
  }

  function escapeText(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function picked(zone, html) {
    const fieldset = zone.closest("fieldset");
    const grid = fieldset.querySelector(".picker-grid");
    const empty = fieldset.querySelector(".picker-empty");
    if (empty) empty.remove();
    grid.insertAdjacentHTML("afterbegin", html);
    const input = grid.querySelector("input");
    // The estimate and rules follow the form's change events.
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return input;
  }

  function makeZone(zone) {
    const form = zone.closest("form");
    const token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    const multiple = zone.hasAttribute("data-multiple");
    const maxBytes = parseInt(zone.dataset.maxBytes || "0", 10);
    const dropzone = new window.Dropzone(zone, {
      url: zone.dataset.uploadUrl,
      paramName: "file",
      clickable: zone.querySelector(".slot-choose"),
      previewsContainer: false,
      createImageThumbnails: false,
      parallelUploads: 2,
      maxFiles: multiple ? null : 1,
      maxFilesize: maxBytes ? maxBytes / 1048576 : 256,
      headers: { "X-CSRFToken": token },
      params: { slot: zone.dataset.slot, kinds: zone.dataset.kinds || "", multiple: multiple ? "1" : "" },
      dictFileTooBig: "This file is larger than " + Math.round(maxBytes / 1048576) + " MB, the most Runway accepts; nothing was saved.",
      dictMaxFilesExceeded: "This input takes one file.",
      dictResponseError: "The upload failed ({{statusCode}}); try again.",
    });
    dropzone.on("sending", (file) => {
      zone.classList.add("busy");
      say(zone, '<p class="slot-progress">Uploading ' + escapeText(file.name) + "…</p>");
    });
    dropzone.on("success", (file, html) => {
      picked(zone, html);
      say(zone, '<p class="slot-done">' + escapeText(file.name) + " uploaded and chosen.</p>");
    });
    dropzone.on("error", (file, message, xhr) => {
      // From the server, the refusal is our own markup; from Dropzone, a plain sentence.
      say(zone, xhr ? message : '<p class="slot-refusal" role="alert"><strong>' + escapeText(file.name) +
        "</strong>: " + escapeText(message) + "</p>");
    });
    dropzone.on("complete", (file) => {
      zone.querySelectorAll(".slot-progress").forEach((line) => line.remove());
      zone.classList.remove("busy");
      dropzone.removeFile(file); // a single slot takes another file next time
    });
    zones.set(zone, dropzone);
    zone.hidden = false;
  }

  function initSlots(root) {
    if (!window.Dropzone) return;
    for (const [zone, dropzone] of Array.from(zones)) {
      if (!zone.isConnected) {
        dropzone.destroy(); // and its hidden file input
        zones.delete(zone);
      }
    }
    root.querySelectorAll(".slot-drop").forEach((zone) => {
      if (!zones.has(zone)) makeZone(zone);
    });
  }

  function send(files, preferred) {
    for (const file of files) {
      const zone = slotFor(file, preferred);
      if (zone) zones.get(zone).addFile(file);
    }
  }

  // Ctrl+V of an image or file: into the slot that has focus, or the first one it fits.
  document.addEventListener("paste", (event) => {
    if (!zones.size) return;
    const files = Array.from((event.clipboardData && event.clipboardData.files) || []);
    if (!files.length) return; // text pastes into the field as usual
    event.preventDefault();
    const focused = document.activeElement && document.activeElement.closest("fieldset.picker");
    send(files, focused ? focused.querySelector(".slot-drop") : null);
  });

  // Files dropped on the upload card go to the slots they fit.
  document.addEventListener("dragover", (event) => {
    if (zones.size && event.target.closest && event.target.closest("[data-slot-router]")) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    const router = zones.size && event.target.closest && event.target.closest("[data-slot-router]");
    if (!router) return;
    event.preventDefault();
    send(Array.from(event.dataTransfer.files || []), null);
  });

  document.addEventListener("DOMContentLoaded", () => initSlots(document));
  document.addEventListener("htmx:afterSettle", (event) => initSlots(event.target));

  // --- browser notifications, for a person who asked for them ------------------------------------
  // Each open page asks now and then for what is new; a notification is shown once per browser
  // (the newest one shown is remembered across tabs, and a tag folds a second tab's copy into it).

  const SHOWN = "takes-notices-shown";

  function setBellCount(bell, count) {
    let badge = bell.querySelector(".bell-count");
    if (!count) { if (badge) badge.remove(); return; }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "bell-count";
      bell.append(badge);
    }
    badge.innerHTML = "";
    badge.append(String(count));
    const hidden = document.createElement("span");
    hidden.className = "sr-only";
    hidden.textContent = " unread";
    badge.append(hidden);
  }

  function showNotice(note) {
    const shown = new Notification("Takes", { body: note.text, tag: "takes-" + note.id });
    shown.onclick = () => { window.focus(); window.location.assign(note.url); };
  }

  function askForNotices(bell) {
    fetch(bell.dataset.notices, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!data) return;
        setBellCount(bell, data.unread);
        const before = window.localStorage.getItem(SHOWN);
        const seen = before === null ? null : parseInt(before, 10) || 0;
        if (seen !== null && Notification.permission === "granted") {
          data.latest.filter((note) => note.id > seen).reverse().forEach(showNotice);
        }
        window.localStorage.setItem(SHOWN, String(Math.max(seen || 0, data.newest || 0)));
      })
      .catch(() => {}); // offline for a moment: the next round asks again
  }

  function permissionText() {
    if (!("Notification" in window)) return "This browser cannot show notifications.";
    if (Notification.permission === "granted") return "This browser shows Takes’ notifications.";
    if (Notification.permission === "denied") {
      return "This browser blocks notifications from Takes: allow them for this site in the browser's settings.";
    }
    return "Your browser will ask whether Takes may show notifications.";
  }

  function initNotices() {
    const bell = document.querySelector(".bell[data-notices]");
    if (bell && "Notification" in window) {
      const every = Math.max(5, parseInt(bell.dataset.noticesEvery, 10) || 30) * 1000;
      askForNotices(bell);
      window.setInterval(() => askForNotices(bell), every);
    }
    document.querySelectorAll("[data-notice-permission]").forEach((el) => { el.textContent = permissionText(); });
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!box.matches || !box.matches("input[name='browser'][type='checkbox']") || !box.checked) return;
    if (!("Notification" in window) || Notification.permission !== "default") return;
    Notification.requestPermission().then(() => {
      document.querySelectorAll("[data-notice-permission]").forEach((el) => { el.textContent = permissionText(); });
    });
  });

  document.addEventListener("DOMContentLoaded", initNotices);
})();
