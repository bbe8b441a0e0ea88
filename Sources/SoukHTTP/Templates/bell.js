// The bell's unread count, live: each new notification on the stream adds one. Without
// JavaScript the count is the one the page was rendered with. EventSource reconnects by itself
// and sends Last-Event-ID, so a dropped connection loses nothing.
(function () {
  "use strict";
  var bell = document.querySelector("a.bell");
  if (!bell || !window.EventSource) return;
  var count = bell.querySelector(".count");
  var unread = parseInt(bell.getAttribute("data-unread"), 10) || 0;
  var source = new EventSource("/api/v1/notifications/stream");
  // Marks the bell live once the stream is open (and again after each reconnect).
  source.addEventListener("open", function () {
    bell.setAttribute("data-live", "true");
  });
  source.addEventListener("error", function () {
    bell.removeAttribute("data-live");
  });
  source.addEventListener("notification", function (event) {
    try {
      if (JSON.parse(event.data).read) return;
    } catch (e) {
      return;
    }
    unread += 1;
    bell.setAttribute("data-unread", String(unread));
    bell.setAttribute("aria-label", "Notifications, " + unread + " unread");
    count.textContent = String(unread);
    count.hidden = false;
  });
})();
