// Dashboard file upload: streams the chosen file as the raw request body to
// POST /api/v1/products/{id}/files?filename=NAME, authenticated by the session cookie plus the
// page's CSRF token in X-CSRF-Token, then reloads the page to show the new version.
// Without JavaScript the same form posts multipart/form-data to the dashboard, which streams it.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-upload-url]");
  Array.prototype.forEach.call(forms, function (form) {
    var input = form.querySelector("input[type=file]");
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[role=status]");
    form.hidden = false;

    function fail(message) {
      status.textContent = "Upload failed: " + message;
      status.className = "upload-status error";
      button.disabled = false;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = input.files && input.files[0];
      if (!file) {
        fail("choose a file first.");
        return;
      }
      button.disabled = true;
      status.className = "upload-status";
      status.textContent = "Uploading " + file.name + "…";
      fetch(form.getAttribute("data-upload-url") + "?filename=" + encodeURIComponent(file.name), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "X-CSRF-Token": form.getAttribute("data-csrf"),
          "Content-Type": "application/octet-stream",
          "Accept": "application/json"
        },
        body: file
      }).then(function (response) {
        if (response.ok) {
          status.textContent = "Uploaded " + file.name + ".";
          window.location.reload();
          return;
        }
        return response.json().then(
          function (problem) { fail(problem.detail || problem.title || response.statusText); },
          function () { fail(response.status + " " + response.statusText); }
        );
      }, function (error) {
        fail(error.message);
      });
    });
  });
})();
