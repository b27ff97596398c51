// Search as you type: a moment after the reader stops typing, the results
// below the field are those of what is typed so far, the last word read as the
// start of a word ("sourd" finds sourdough). The form works the same without
// this script; the address bar keeps the search, so back and reload work.
(function () {
  "use strict";
  var form = document.querySelector("form[role=search]");
  var field = form && form.querySelector("input[name=q]");
  var results = document.getElementById("results");
  if (!field || !results || !window.fetch || !window.DOMParser) return;
  // Within one question's answers words are matched whole: no typing there.
  if (form.querySelector("input[name=question]")) return;
  var timer = null;
  var pending = null;
  var shown = field.value;
  function update() {
    var q = field.value;
    if (q === shown || (q.trim().length < 3 && q.trim() !== "")) return;
    var params = new URLSearchParams(new FormData(form));
    // The address keeps the search as typed: reload and back show the same.
    if (q.trim() !== "") params.set("as_you_type", "1");
    var address = form.getAttribute("action") + (q.trim() ? "?" + params.toString() : "");
    if (pending) pending.abort();
    pending = window.AbortController ? new AbortController() : null;
    fetch(address, {
      signal: pending ? pending.signal : undefined,
      credentials: "same-origin"
    })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || field.value !== q) return;
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("results");
        if (!fresh) return;
        results.innerHTML = fresh.innerHTML;
        document.title = page.title;
        shown = q;
        window.history.replaceState(null, "", address);
      })
      .catch(function () { /* a newer search took its place, or the network: the form still works */ });
  }
  field.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  });
})();
