// Copy buttons: a button with data-copy="TEXT" copies TEXT to the clipboard and says so. The
// buttons are hidden in the page and shown here, so a browser without JavaScript never sees a
// button that does nothing (the text itself stays selectable).
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      }, function () {
        button.textContent = "Select the key and copy it";
      });
    });
  });
})();
