// Work queue: "n" submits the page's "Next account" form (the queue page and the account page's claim bar).
(function () {
  "use strict";
  if (window.queueHotkeyBound) return;
  window.queueHotkeyBound = true;

  function isTyping(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "n" || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    var form = document.querySelector("form[data-hotkey-next]");
    if (!form) return;
    event.preventDefault();
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  });
})();
