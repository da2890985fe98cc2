// The agent's routing bar (kefu/routing/templates/_bar.html): each offer's countdown, redrawn every second
// and after every live refresh of the bar. A file of its own: the Content Security Policy allows no inline script.
(function () {
  "use strict";
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".offer[data-expires]").forEach(function (offer) {
      var left = Math.max(0, Math.round((Date.parse(offer.getAttribute("data-expires")) - now) / 1000));
      var b = offer.querySelector("[data-countdown] b");
      if (b) b.textContent = String(left);
      offer.classList.toggle("offer-late", left <= 5);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
  document.addEventListener("DOMContentLoaded", tick);
})();
