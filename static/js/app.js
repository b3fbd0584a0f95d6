// Keyboard and session helpers for the server-rendered pages. No framework; htmx does the rest.
(function () {
  "use strict";

  function isTyping(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  // "/" jumps to search (the page's own search box first, else the one in the top bar).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    var box = document.querySelector("[data-search-primary]") || document.querySelector("[data-search-global]");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // The search page opens with the last search kept (so Back shows it): its text starts selected,
  // so typing a new search replaces it instead of running on from its end.
  var kept = document.querySelector("input[data-search-primary][autofocus]");
  if (kept && kept.value) kept.select();

  // Escape leaves a search box, so "/" and the page's other keys work again.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target && event.target.type === "search") event.target.blur();
  });

  // The account workspace's keys. A page offers a key by marking an element: data-hotkey="n" on a
  // button or link clicks it, on a form or field focuses its first field. Fallbacks cover the
  // panels that do not mark themselves yet.
  var HOTKEYS = [
    { key: "/", label: "Search accounts" },
    // queue.js submits the "Next account" form itself; listed here only.
    { key: "n", label: "Next account in my queue", fallback: "form[data-hotkey-next]", listOnly: true },
    { key: "c", label: "Log a contact", fallback: "#panel-contacts form" },
    { key: "a", label: "Jump to the action panels", fallback: "#workspace-actions" },
    { key: "t", label: "Jump to the activity timeline", fallback: "#timeline-panel" },
    { key: "l", label: "Jump to the ledger", fallback: "#ledger-panel" },
    { key: "?", label: "Show these keys" }
  ];

  function hotkeyTarget(entry) {
    return document.querySelector('[data-hotkey="' + entry.key + '"]') ||
      (entry.fallback ? document.querySelector(entry.fallback) : null);
  }

  function activate(target) {
    if (target.tagName === "A" || target.tagName === "BUTTON") {
      target.click();
      return;
    }
    var field = target.matches("input, select, textarea") ? target :
      target.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])");
    if (field) {
      field.focus();
      return;
    }
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
    target.scrollIntoView({ block: "start" });
  }

  function showHotkeys() {
    var dialog = document.getElementById("hotkeys");
    if (dialog && dialog.open) return;
    if (dialog) dialog.remove();  // rebuilt each time: panels come and go with htmx swaps
    dialog = document.createElement("dialog");
    dialog.id = "hotkeys";
    dialog.className = "hotkeys";
    dialog.setAttribute("aria-labelledby", "hotkeys-title");
    var html = '<h2 id="hotkeys-title">Keyboard shortcuts</h2><dl>';
    HOTKEYS.forEach(function (entry) {
      if (entry.key !== "/" && entry.key !== "?" && !hotkeyTarget(entry)) return;
      html += "<dt><kbd>" + entry.key + "</kbd></dt><dd>" + entry.label + "</dd>";
    });
    html += "<dt><kbd>Esc</kbd></dt><dd>Leave a field or close this list</dd></dl>";
    html += '<form method="dialog"><button class="btn btn-small" type="submit">Close</button></form>';
    dialog.innerHTML = html;
    document.body.appendChild(dialog);
    if (typeof dialog.showModal === "function") dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (event.key === "?") {
      event.preventDefault();
      showHotkeys();
      return;
    }
    if (event.key === "/") return;  // handled above
    for (var i = 0; i < HOTKEYS.length; i++) {
      if (HOTKEYS[i].key !== event.key || HOTKEYS[i].listOnly) continue;
      var target = hotkeyTarget(HOTKEYS[i]);
      if (!target) return;
      event.preventDefault();
      activate(target);
      return;
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-hotkey-help]")) showHotkeys();
  });

  // The account workspace's action panels load when the rep opens them; the ones this rep opened
  // open again on the next account (kept in this browser only: panel names, never PHI).
  var OPEN_PANELS = "workspace-open-panels";

  function openPanelKeys() {
    try { return JSON.parse(window.localStorage.getItem(OPEN_PANELS) || "[]"); } catch (e) { return []; }
  }

  // htmx wires the page's panels on DOMContentLoaded; a click before the page has loaded waits for
  // it (otherwise the panel's "panel-open" event would go to an element nobody listens on yet).
  var pageLoaded = document.readyState === "complete";

  function openPanel(slot) {
    if (!slot) return;
    if (!pageLoaded || !window.htmx) {
      window.addEventListener("load", function () { openPanel(slot); }, { once: true });
      return;
    }
    window.htmx.trigger(slot, "panel-open");
    var keys = openPanelKeys();
    if (keys.indexOf(slot.dataset.panel) === -1) {
      keys.push(slot.dataset.panel);
      try { window.localStorage.setItem(OPEN_PANELS, JSON.stringify(keys)); } catch (e) { /* private mode */ }
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-panel-open]");
    if (button) openPanel(button.closest(".panel-slot"));
  });

  function reopenPanels() {
    openPanelKeys().forEach(function (key) {
      var slot = document.querySelector('.panel-slot[data-panel="' + key + '"]');
      if (slot && window.htmx) window.htmx.trigger(slot, "panel-open");
    });
  }

  // After htmx has wired the page (it does so on DOMContentLoaded).
  window.addEventListener("load", function () {
    pageLoaded = true;
    reopenPanels();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var slot = event.detail.target && event.detail.target.closest && event.detail.target.closest(".panel-slot");
    if (slot) slot.dataset.loaded = "1";
  });

  // A panel's action changed the account (HX-Trigger: {"account-changed": {"panel": key}}): the
  // other panels the rep has open fetch themselves again; the acting one has already re-rendered.
  document.body.addEventListener("account-changed", function (event) {
    var acting = event.detail && event.detail.panel;
    document.querySelectorAll(".panel-slot[data-loaded]").forEach(function (slot) {
      if (slot.dataset.panel !== acting && window.htmx) window.htmx.trigger(slot, "panel-refresh");
    });
  });

  // The page's Content-Security-Policy refuses inline handlers (onchange=, hx-on), so the few
  // behaviours that were inline are declared with data attributes and wired here.

  // A select marked data-reveals shows the rows of its form marked
  // data-revealed-by="<its name>" data-revealed-when="<value>" only while that value is chosen.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-reveals]") || !select.form) return;
    select.form.querySelectorAll("[data-revealed-by]").forEach(function (row) {
      if (row.dataset.revealedBy === select.name) row.hidden = row.dataset.revealedWhen !== select.value;
    });
  });

  // data-remove-after-request=".pager": once the element's htmx request is done, its closest
  // ancestor matching the selector goes (a "Show all" button whose rows have arrived).
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    var selector = elt && elt.dataset && elt.dataset.removeAfterRequest;
    if (!selector) return;
    var gone = elt.closest(selector);
    if (gone) gone.remove();
  });

  // An upload the server refused unread (413, too large): say so inside the form that sent it, as
  // the server's message, instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var elt = event.detail.elt;
    if (!xhr || xhr.status !== 413 || !elt) return;
    var form = elt.closest("form") || elt;
    var notice = form.querySelector(".upload-refused");
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "notice notice-error upload-refused";
      notice.setAttribute("role", "alert");
      form.insertBefore(notice, form.firstChild);
    }
    notice.textContent = xhr.responseText;
  });

  // When the idle timeout ends the session, an htmx request is redirected to the sign-in page:
  // go there as a whole page instead of swapping the sign-in form into a table.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/login/") !== -1) {
      event.detail.shouldSwap = false;
      window.location.href = xhr.responseURL;
    }
  });
})();
