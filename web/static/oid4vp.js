// The page of a phone wallet request: polls the request's state and
// reloads the page when it changes (the outcome is shown on reload).
// Without this script, the page refreshes itself every 3 seconds and has
// a refresh link.
(function () {
  "use strict";
  var el = document.getElementById("oid4vp-state");
  if (!el) { return; }
  var meta = document.querySelector('meta[http-equiv="refresh"]');
  if (meta) { meta.parentNode.removeChild(meta); }
  var url = el.getAttribute("data-state");
  var last = null;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (b) {
        if (last === null) { last = b.status; }
        if (b.status !== last || b.status === "done" || b.expired) { window.location.reload(); return; }
        setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(function () { window.location.reload(); }, 3000); });
  }
  setTimeout(poll, 1500);
})();
