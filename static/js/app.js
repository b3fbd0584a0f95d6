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

  // Escape leaves a search box, so "/" and the page's other keys work again.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target && event.target.type === "search") event.target.blur();
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
