// The draft editor, with this script: a toolbar over each Markdown field, the
// reader's page beside the form on a wide screen (from the unsaved text), a
// save every few seconds while typing (with the same version check as the
// Save button), and a warning before leaving with changes not saved. Without
// it the page works as a plain form: Save, and "Preview what you wrote".
(function () {
  "use strict";
  var form = document.getElementById("draft-form");
  if (!form || !window.fetch || !window.FormData) return;
  var status = document.getElementById("autosave-status");
  var aside = document.getElementById("desk-preview");
  var frame = aside && aside.querySelector("iframe");
  var wide = window.matchMedia("(min-width: 64rem)");
  var dirty = false, saving = null, stopped = false, edits = 0;
  var saveTimer = null, previewTimer = null;
  var SAVE_AFTER = 3000, PREVIEW_AFTER = 700;

  // The toolbar: wraps or prefixes the selection, as typing it would.
  var TOOLS = [
    ["Bold", "**", "**", "bold text"],
    ["Italic", "*", "*", "italic text"],
    ["Link", "[", "](https://)", "link text"],
    ["List", "- ", "", "list item"],
    ["Quote", "> ", "", "quoted text"]
  ];
  function apply(area, tool) {
    var start = area.selectionStart, end = area.selectionEnd;
    var text = area.value, chosen = text.slice(start, end) || tool[3];
    var replacement;
    if (tool[2] === "" ) {  // a line prefix, on every line chosen
      var lineStart = text.lastIndexOf("\n", start - 1) + 1;
      chosen = text.slice(lineStart, end) || tool[3];
      start = lineStart;
      replacement = chosen.split("\n").map(function (line) { return tool[1] + line; }).join("\n");
    } else {
      replacement = tool[1] + chosen + tool[2];
    }
    area.focus();
    area.setRangeText(replacement, start, end, "select");
    if (tool[0] === "Link") {  // put the cursor where the address goes
      var at = start + replacement.length - 1;
      area.setSelectionRange(at, at);
    }
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }
  Array.prototype.forEach.call(form.querySelectorAll(".markdown textarea"), function (area) {
    var bar = document.createElement("div");
    bar.className = "md-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Formatting");
    bar.setAttribute("aria-controls", area.id);
    TOOLS.forEach(function (tool) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = tool[0];
      button.addEventListener("click", function () { apply(area, tool); });
      bar.appendChild(button);
    });
    area.parentNode.insertBefore(bar, area);
  });

  function say(text, trouble) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", !!trouble);
  }

  function fields() {
    var data = new FormData(form);
    data.delete("photo");  // a photo goes up with Save, not every few seconds
    data.delete("remove_photo");
    return data;
  }

  function autosave() {
    saveTimer = null;
    if (!form.dataset.autosave || stopped || !dirty) return;
    if (saving) { saveTimer = setTimeout(autosave, SAVE_AFTER); return; }
    var sent = edits;
    say("Saving…");
    saving = fetch(form.dataset.autosave, { method: "POST", body: fields(), credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) { return [response.status, body]; });
      })
      .then(function (answer) {
        var code = answer[0], body = answer[1];
        if (code === 200) {
          form.elements.version.value = body.version;
          form.elements.pending.value = body.pending;
          if (edits === sent) dirty = false;
          say("Saved at " + body.saved_at + ".");
        } else if (body.csrf_token) {  // the page outlived its token: a new one, and again
          form.elements.csrf_token.value = body.csrf_token;
          say(body.message);
          edits += 1;
        } else if (code === 409) {
          stopped = true;  // never over another editor's text: the editor decides
          say("Another editor saved this draft meanwhile. Autosave is paused: press Save to " +
              "bring in their changes where you typed nothing, and to see both where you both did.", true);
        } else {
          say(body.message || "Not saved.", true);
        }
      })
      .catch(function () { say("Not saved: no answer from the server. Trying again as you type.", true); })
      .then(function () { saving = null; if (dirty && !stopped && edits !== sent) schedule(); });
  }

  function schedule() {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(autosave, SAVE_AFTER);
  }

  // The reader's page from what is typed, put in the pane's page in place of
  // what it showed (no navigation: Back still leaves the editor).
  var paneReady = false;
  function preview() {
    previewTimer = null;
    if (!frame || !wide.matches || !paneReady) return;
    fetch(form.dataset.preview + "?pane=1", { method: "POST", body: fields(), credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var shown = frame.contentDocument, view = frame.contentWindow;
        if (!shown || !shown.body) return;
        var made = new DOMParser().parseFromString(html, "text/html");
        var top = view.scrollY;
        shown.body.replaceWith(shown.adoptNode(made.body));
        view.scrollTo(0, top);
      })
      .catch(function () {});
  }
  if (frame) frame.addEventListener("load", function () { paneReady = true; preview(); }, { once: true });

  function showPreview() {
    if (!aside) return;
    aside.hidden = !wide.matches;
    document.body.classList.toggle("desk-wide", wide.matches);
    if (wide.matches) preview();
  }
  if (wide.addEventListener) wide.addEventListener("change", showPreview);
  showPreview();

  form.addEventListener("input", function (event) {
    if (event.target && event.target.type === "file") return;
    dirty = true;
    edits += 1;
    if (form.dataset.autosave && !stopped) schedule();
    if (previewTimer) clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, PREVIEW_AFTER);
  });
  form.addEventListener("change", function (event) {
    if (event.target && event.target.type === "file") dirty = true;
  });
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.getAttribute("formtarget")) return;  // the preview, in its own tab
    if (saveTimer) clearTimeout(saveTimer);
    if (saving) {
      // Wait for the autosave on its way, so this save carries the version it made.
      event.preventDefault();
      saving.then(function () { form.requestSubmit(button || undefined); });
      return;
    }
    stopped = true;
    dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
