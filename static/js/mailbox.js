// The demo mailbox: the email's iframe takes the email's height, so the page scrolls as
// one (no box scrolling inside a box on a phone), and an email wider than the screen is
// shrunk to fit, as mail apps do. The frame is same-origin and runs no script of its own
// (sandbox without allow-scripts), so the page can measure and style it.
(function () {
  "use strict";

  function fit(frame) {
    var doc;
    try { doc = frame.contentDocument; } catch (e) { return; }
    if (!doc || !doc.documentElement || !doc.body) return;
    var root = doc.documentElement;
    root.style.zoom = "";
    var wide = root.scrollWidth, room = root.clientWidth;
    if (wide > room + 1) root.style.zoom = String(Math.floor((room / wide) * 1000) / 1000);
    frame.style.height = "0px"; // measure the content, not the frame's last height
    frame.style.height = root.scrollHeight + "px";
  }

  var frames = document.querySelectorAll("iframe[data-fit-content]");
  frames.forEach(function (frame) {
    frame.addEventListener("load", function () { fit(frame); });
    if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit(frame);
  });
  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { frames.forEach(fit); }, 100);
  });
})();
