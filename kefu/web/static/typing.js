// Web chat typing on the ticket page: the visitor's typing (the stream's typing-<interaction> notice) is
// shown above the reply box for a few seconds; the agent's typing is posted (at most every 3 seconds)
// so the visitor's widget shows it. Nothing is stored.
(function () {
  "use strict";
  var shown = document.getElementById("visitor-typing");
  var events = document.getElementById("typing-events");
  var body = document.getElementById("reply-body");
  if (!shown || !events) { return; }
  var timer = null;
  events.addEventListener("htmx:sseBeforeMessage", function (e) {
    e.preventDefault();  // nothing to swap: only show the notice
    shown.textContent = shown.getAttribute("data-typing-text");
    clearTimeout(timer);
    timer = setTimeout(function () { shown.textContent = ""; }, 4000);
  });
  var sentAt = 0;
  var token = document.querySelector("input[name=csrf_token]");
  if (body && token) {
    body.addEventListener("input", function () {
      var now = Date.now();
      if (now - sentAt < 3000) { return; }
      sentAt = now;
      fetch(shown.getAttribute("data-typing-url"), {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": token.value }
      }).catch(function () {});
    });
  }
}());
