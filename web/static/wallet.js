// The web wallet's script: it installs the service worker that keeps the
// wallet's pages for offline use, and, on a page shown when the wallet is
// locked (signed out), deletes every kept page so that the next person
// on a shared phone sees nothing of the last one. Without it the wallet
// works online, page by page.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) { return; }
  var locked = document.body.hasAttribute("data-wallet-locked");
  if (locked && window.caches) {
    caches.keys().then(function (keys) {
      return Promise.all(keys.map(function (k) { return caches.delete(k); }));
    }).then(function () { document.body.setAttribute("data-wallet-cleared", ""); });
    if (navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "lock" });
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
