// scan.js reads a QR code with the device's camera, for tally's scanning
// page. No library, no CDN: it ships with tally and works on the local
// server offline. The page works without it (photo upload, pasted text);
// with it, a button opens the camera.
//
// Markup (web/templates/_scan.html):
//   <div class="scanner" data-scan-url="URL" data-target="FIELD-ID"
//        data-submit="true|false" data-msg-*="...">
//     <button type="button" data-scan-start>…</button>
//     <button type="button" data-scan-stop hidden>…</button>
//     <video data-scan-video playsinline muted hidden></video>
//     <p data-scan-status role="status" aria-live="polite"></p>
//   </div>
//
// Frames are read in the browser by BarcodeDetector where the browser has
// it; otherwise (and when it finds nothing for a while) a few frames a
// second are sent as JPEG to data-scan-url, where tally's own decoder
// (internal/scan) reads them: POST, the image as the body, answered 200
// {"text": "..."} when a code was read and 422 when none was. On success
// the camera stops, the text fills the field data-target names, and the
// form is submitted when data-submit is "true".
(function () {
  "use strict";

  var INTERVAL_MS = 350;   // between two frames sent to the server
  var MAX_FRAMES = 400;    // then stop: about two minutes of trying
  var MAX_SIDE = 1280;     // frames sent are at most this wide or high
  var JPEG_QUALITY = 0.85;

  function setup(root) {
    var url = root.getAttribute("data-scan-url");
    var target = document.getElementById(root.getAttribute("data-target") || "");
    var start = root.querySelector("[data-scan-start]");
    var stop = root.querySelector("[data-scan-stop]");
    var video = root.querySelector("[data-scan-video]");
    var status = root.querySelector("[data-scan-status]");
    if (!url || !target || !start || !video) {
      return;
    }
    function say(key) {
      if (status) {
        status.textContent = root.getAttribute("data-msg-" + key) || "";
      }
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.fetch) {
      start.disabled = true;
      say("unsupported");
      return;
    }
    start.hidden = false;

    var stream = null, timer = null, busy = false, frames = 0, detector = null, misses = 0;
    var canvas = document.createElement("canvas");

    function halt() {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      if (stream) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        stream = null;
      }
      video.srcObject = null;
      video.hidden = true;
      if (stop) {
        stop.hidden = true;
      }
      start.hidden = false;
      busy = false;
    }

    function found(text) {
      halt();
      target.value = text;
      target.dispatchEvent(new Event("input", { bubbles: true }));
      say("found");
      if (root.getAttribute("data-submit") === "true" && target.form) {
        if (target.form.requestSubmit) {
          target.form.requestSubmit();
        } else {
          target.form.submit();
        }
      }
    }

    function next() {
      if (stream) {
        timer = setTimeout(tick, INTERVAL_MS);
      }
    }

    // send posts the current frame to the server's decoder.
    function send() {
      var w = video.videoWidth, h = video.videoHeight;
      var k = Math.min(1, MAX_SIDE / Math.max(w, h));
      canvas.width = Math.round(w * k);
      canvas.height = Math.round(h * k);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (!blob || !stream) {
          busy = false;
          next();
          return;
        }
        fetch(url, {
          method: "POST",
          body: blob,
          headers: { "Content-Type": "image/jpeg", "Accept": "application/json" },
          credentials: "same-origin",
          cache: "no-store"
        }).then(function (resp) {
          if (resp.status === 200) {
            return resp.json().then(function (body) {
              if (body && typeof body.text === "string" && body.text !== "") {
                found(body.text);
              }
            });
          }
          if (resp.status !== 422) {
            // Signed out, refused or a server fault: trying again will not help.
            halt();
            say("failed");
          }
        }).catch(function () {
          halt();
          say("failed");
        }).then(function () {
          busy = false;
          next();
        });
      }, "image/jpeg", JPEG_QUALITY);
    }

    function tick() {
      timer = null;
      if (!stream || busy) {
        return;
      }
      if (++frames > MAX_FRAMES) {
        halt();
        say("timeout");
        return;
      }
      if (video.readyState < 2 || video.videoWidth === 0) {
        next();
        return;
      }
      busy = true;
      // The browser's own detector first, where there is one; the server
      // is asked too every few frames, as it reads codes the browser's
      // detector may miss (slant, glare, low contrast).
      if (detector && misses % 4 !== 3) {
        detector.detect(video).then(function (codes) {
          for (var i = 0; i < codes.length; i++) {
            if (codes[i].rawValue) {
              found(codes[i].rawValue);
              return;
            }
          }
          misses++;
          busy = false;
          next();
        }).catch(function () {
          detector = null;
          busy = false;
          next();
        });
        return;
      }
      misses++;
      send();
    }

    function begin() {
      if (stream) {
        return;
      }
      say("starting");
      frames = 0;
      misses = 0;
      navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } }
      }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        start.hidden = true;
        if (stop) {
          stop.hidden = false;
        }
        return video.play();
      }).then(function () {
        say("looking");
        next();
      }).catch(function (err) {
        halt();
        say(err && err.name === "NotAllowedError" ? "denied" : "nocamera");
      });
    }

    if ("BarcodeDetector" in window) {
      try {
        window.BarcodeDetector.getSupportedFormats().then(function (formats) {
          if (formats.indexOf("qr_code") >= 0) {
            detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          }
        }).catch(function () {});
      } catch (e) {
        detector = null;
      }
    }

    start.addEventListener("click", begin);
    if (stop) {
      stop.addEventListener("click", function () {
        halt();
        say("stopped");
      });
    }
    // A hidden page keeps no camera open.
    document.addEventListener("visibilitychange", function () {
      if (document.hidden && stream) {
        halt();
        say("stopped");
      }
    });
  }

  function init() {
    var roots = document.querySelectorAll("[data-scan-url]");
    for (var i = 0; i < roots.length; i++) {
      setup(roots[i]);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
