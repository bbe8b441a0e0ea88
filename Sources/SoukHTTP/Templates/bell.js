// The bell's unread count, live: each new notification on the stream adds one. Without
// JavaScript the count is the one the page was rendered with. The stream starts after the newest
// notice that count includes (`after`), so nothing is counted twice and nothing made since the
// page was rendered is missed. EventSource reconnects by itself and sends Last-Event-ID, so a
// dropped connection loses nothing; a refused one (429: too many open tabs) is tried again later.
(function () {
  "use strict";
  var bell = document.querySelector("a.bell");
  if (!bell || !window.EventSource) return;
  var count = bell.querySelector(".count");
  var unread = parseInt(bell.getAttribute("data-unread"), 10) || 0;
  var after = parseInt(bell.getAttribute("data-after"), 10) || 0;

  function connect() {
    var source = new EventSource("/api/v1/notifications/stream?after=" + after);
    // Marks the bell live once the stream is open (and again after each reconnect).
    source.addEventListener("open", function () {
      bell.setAttribute("data-live", "true");
    });
    source.addEventListener("error", function () {
      bell.removeAttribute("data-live");
      // EventSource gives up for good on a refusal (not on a dropped connection): try later.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 30000);
    });
    source.addEventListener("notification", function (event) {
      var seq = parseInt(event.lastEventId, 10);
      if (seq > after) after = seq;
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
  }
  connect();
})();
