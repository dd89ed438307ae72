// Live progress of a running import: polls the import's JSON and updates
// the progress bar and counts; reloads the page once the import is over.
// Without this script, the page refreshes itself every 2 seconds.
(function () {
  "use strict";
  var state = document.getElementById("import-state");
  var bar = document.getElementById("import-progress");
  if (!state || !bar) { return; }
  // The script takes over from the meta refresh.
  var meta = document.querySelector('meta[http-equiv="refresh"]');
  if (meta) { meta.parentNode.removeChild(meta); }
  var url = state.getAttribute("data-import");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (b) {
        var j = b["import"];
        bar.max = j.rows; bar.value = j.done; bar.textContent = b.percent + "%";
        var issued = document.getElementById("import-issued");
        var failed = document.getElementById("import-failed");
        if (issued) { issued.textContent = j.issued; }
        if (failed) { failed.textContent = j.failed; }
        if (j.state !== "running") { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(function () { window.location.reload(); }, 2000); });
  }
  setTimeout(poll, 1000);
})();
