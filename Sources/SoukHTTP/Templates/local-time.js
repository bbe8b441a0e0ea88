// Dates in the reader's language and time zone. The server writes every date as
// <time datetime="…" data-style="moment|day">Dec 6, 2026, 14:05 UTC</time>; this rewrites the
// text ("3 hours ago", "6 déc. 2026, 15:05") and keeps the exact moment in the tooltip. It also
// tells the server the browser's zone (cookie souk_tz) so e-mails show the buyer's own time.
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (zone && document.cookie.indexOf("souk_tz=" + zone) === -1) {
    document.cookie = "souk_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
  var full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
  var withTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  var units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  function recent(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    if (!relative || Math.abs(seconds) >= 7 * 86400) return null;
    if (Math.abs(seconds) < 60) return relative.format(0, "second");
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1]) return relative.format(Math.round(seconds / units[i][1]), units[i][0]);
    }
    return null;
  }
  Array.prototype.forEach.call(document.querySelectorAll("time[datetime][data-style]"), function (element) {
    var date = new Date(element.getAttribute("datetime"));
    if (isNaN(date.getTime())) return;
    element.title = full.format(date);
    if (element.getAttribute("data-style") === "day") {
      element.textContent = dayOnly.format(date);
    } else {
      element.textContent = recent(date) || withTime.format(date);
    }
  });
})();
