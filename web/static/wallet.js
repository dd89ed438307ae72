// The web wallet's script: it installs the service worker that keeps the
// wallet's pages for offline use, and, on a page shown when the wallet is
// locked (signed out), deletes every kept page so that the next person
// on a shared phone sees nothing of the last one. Without it the wallet
// works online, page by page.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) { return; }
  var locked = document.body.hasAttribute("data-wallet-locked");
  var cleared = function () { document.body.setAttribute("data-wallet-cleared", ""); };
  if (locked) {
    var worker = navigator.serviceWorker.controller;
    if (worker && window.MessageChannel) {
      // The worker deletes every cache and says when it is done.
      var ch = new MessageChannel();
      ch.port1.onmessage = cleared;
      worker.postMessage({ type: "lock" }, [ch.port2]);
    } else if (window.caches) {
      // No worker controls this page: delete every cache but the shell
      // (style, script, icons, offline page: nothing of anyone).
      caches.keys().then(function (keys) {
        return Promise.all(keys.filter(function (k) { return k.indexOf("tally-shell") !== 0; }).map(function (k) { return caches.delete(k); }));
      }).then(cleared);
    }
  }
  navigator.serviceWorker.register("/wallet/sw.js", { scope: "/wallet/" }).catch(function () {});
  // Locking: the kept pages go before the sign-out is sent, too.
  var out = document.querySelector('form[action="/wallet/signout"]');
  if (out && navigator.serviceWorker.controller) {
    out.addEventListener("submit", function () {
      navigator.serviceWorker.controller.postMessage({ type: "lock" });
    });
  }
})();
