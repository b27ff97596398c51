// One read of the interview: said once the page has been in view for a few
// seconds (not when it is prerendered or opened in a background tab). No
// cookie, nothing about the reader: a POST to the address the script names.
(function () {
  "use strict";
  var script = document.currentScript;
  var address = script && script.getAttribute("data-read");
  if (!address || !navigator.sendBeacon || !window.URLSearchParams) return;
  var timer = null;
  var sent = false;
  function send() {
    if (sent) return;
    sent = true;
    navigator.sendBeacon(address, new URLSearchParams({ read: "1" }));
  }
  function watch() {
    var inView = document.visibilityState === "visible" && !document.prerendering;
    if (inView && !timer && !sent) {
      timer = window.setTimeout(send, 4000);
    } else if (!inView && timer) {
      window.clearTimeout(timer);
      timer = null;
    }
  }
  document.addEventListener("visibilitychange", watch);
  document.addEventListener("prerenderingchange", watch);
  watch();
})();
