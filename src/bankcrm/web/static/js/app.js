// BankCRM's own browser behaviour. Small on purpose: pages work without it, it only adds comfort.
(function () {
  "use strict";

  // "/" focuses the global customer search (UI.md), unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var search = document.getElementById("global-search");
    if (search) { event.preventDefault(); search.focus(); }
  });

  // Dismissible alerts without pulling in Bootstrap's JavaScript.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss-alert]");
    if (button) { button.closest(".alert").remove(); }
  });

  // Destructive buttons ask first, naming what will happen (data-confirm holds the sentence).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // HTMX: show server errors (4xx/5xx fragments) in place instead of silently ignoring them.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422 || status === 409 || status === 404 || status === 403) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
