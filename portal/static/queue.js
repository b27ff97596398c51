// The review queue from the keyboard: j / k move down and up the rows, o (or
// Enter on a row) opens the one marked, / goes to the search box. Keys typed
// into a field are left alone. Without this script the queue works as before.
(function () {
  "use strict";
  var table = document.querySelector("table.queue");
  var search = document.querySelector("form[role=search] input[type=search], form[role=search] input[name=q]");
  var hint = document.getElementById("queue-keys");
  if (hint) hint.hidden = false;
  var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr")) : [];
  var current = -1;

  function mark(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    var link = rows[current].querySelector("a[href]");
    if (link) link.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (event.key === "j") { mark(current + 1); event.preventDefault(); }
    else if (event.key === "k") { mark(current < 0 ? 0 : current - 1); event.preventDefault(); }
    else if (event.key === "o" && current >= 0) {
      var link = rows[current].querySelector("a[href]");
      if (link) { link.click(); event.preventDefault(); }
    }
    else if (event.key === "/" && search) { search.focus(); search.select(); event.preventDefault(); }
  });
})();
