// Upload of set-up files (organisation, volumes, paper responses) with a progress bar: the bytes
// sent, then "checking and storing" until the report page arrives and replaces this one. Without
// JavaScript the form is posted as usual.
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData) { return; }
  var forms = document.querySelectorAll("form.upload");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var bar = form.querySelector(".upload-progress");
      var status = form.querySelector(".upload-status");
      var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
      if (input && input.files.length && input.files[0].size > limit) {
        event.preventDefault();
        status.textContent = form.getAttribute("data-too-large");
        status.className = "upload-status error";
        return;
      }
      if (!bar) { return; }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.getAttribute("action"));
      bar.hidden = false;
      bar.value = 0;
      form.setAttribute("aria-busy", "true");
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) { bar.value = Math.round(90 * progress.loaded / progress.total); }
      });
      request.upload.addEventListener("load", function () {
        bar.removeAttribute("value");  // indeterminate while the server checks every row
        status.textContent = form.getAttribute("data-working");
      });
      request.addEventListener("load", function () {
        bar.value = 100;
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", function () { form.submit(); });
      request.send(new FormData(form));
    });
  });
})();
