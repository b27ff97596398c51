// "Copy link" beside the share links: shown only where the clipboard can be
// written; without this script the links work and the button stays hidden.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) return;
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(
        function () { button.textContent = "Link copied"; },
        function () { button.textContent = "Could not copy: select the address bar"; }
      );
      window.setTimeout(function () { button.textContent = label; }, 4000);
    });
  });
})();
