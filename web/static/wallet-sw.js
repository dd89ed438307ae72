// The web wallet's service worker (served as /wallet/sw.js, scope
// /wallet/). It keeps the app shell (style, script, icons, the offline
// page) and the wallet pages the holder opened, so that the home page and
// a credential's page (with its QR) show without the network. Pages go to
// the network first and come from the copy only when it fails; the copy
// then shows a banner "Offline — as last seen on …". POST answers and the
// JSON API are never kept. Locking the wallet (the page after signing out)
// deletes every cache: on a shared phone the next person must not see the
// last one's cards.
"use strict";

var SHELL = "tally-shell-v1";
var PAGES = "tally-pages-v1";
var SHELL_URLS = [
  "/static/tally.css",
  "/static/wallet.css",
  "/static/wallet.js",
  "/wallet/icon-192.png",
  "/wallet/icon-512.png",
  "/wallet/manifest.webmanifest",
  "/wallet/offline"
];

// The wallet pages kept for offline use: the home page and a
// credential's page (a card's QR is on it). The presentation QR of a
// phone credential is not kept: it is signed for a few minutes only.
var KEPT = [/^\/wallet\/$/, /^\/wallet\/credentials\/[A-Za-z0-9]+$/];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(SHELL_URLS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL && k !== PAGES; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// Locking: every cache but the shell goes, and the shell (which holds
// nothing of anyone) is fetched anew, replacing the old copies; offline,
// the old shell stays so that the offline page still shows.
// Locks run one after the other; the page that asked hears when done.
var locking = Promise.resolve();
self.addEventListener("message", function (event) {
  if (!event.data || event.data.type !== "lock") { return; }
  var port = event.ports && event.ports[0];
  locking = locking.then(function () {
    return caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== SHELL; }).map(function (k) { return caches.delete(k); }));
    }).then(function () {
      return caches.open(SHELL).then(function (c) { return c.addAll(SHELL_URLS); });
    }).catch(function () {});
  }).then(function () {
    if (port) { port.postMessage("locked"); }
  });
  event.waitUntil(locking);
});

function kept(path) {
  for (var i = 0; i < KEPT.length; i++) {
    if (KEPT[i].test(path)) { return true; }
  }
  return false;
}

// offline marks a kept page as shown from the copy: its banner shows.
function offline(res) {
  return res.text().then(function (html) {
    var headers = new Headers(res.headers);
    return new Response(html.replace("data-offline hidden", "data-offline"), { status: 200, headers: headers });
  });
}

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") { return; }
  var url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) { return; }
  if (req.mode === "navigate") {
    if (url.pathname.indexOf("/wallet/") !== 0) { return; }
    event.respondWith(fetch(req).then(function (res) {
      // Kept: a signed-in holder's page, as the server marks it.
      var mine = res.headers.get("Tally-Offline") === "keep";
      if (res.ok && !res.redirected && res.type === "basic" && kept(url.pathname) && mine) {
        var copy = res.clone();
        caches.open(PAGES).then(function (c) { return c.put(req, copy); });
      }
      return res;
    }).catch(function () {
      return caches.open(PAGES).then(function (c) { return c.match(req); }).then(function (res) {
        if (res) { return offline(res); }
        return caches.match("/wallet/offline", { cacheName: SHELL }).then(function (page) {
          return page || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
        });
      });
    }));
    return;
  }
  if (SHELL_URLS.indexOf(url.pathname) >= 0) {
    // The shell: the network when it answers (a new style after an
    // update), else the copy.
    event.respondWith(fetch(req).then(function (res) {
      if (res.ok) {
        var copy = res.clone();
        caches.open(SHELL).then(function (c) { return c.put(req, copy); });
      }
      return res;
    }).catch(function () {
      return caches.match(req, { cacheName: SHELL });
    }));
  }
});
