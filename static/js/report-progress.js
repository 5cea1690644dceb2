// Progress while a PDF report is prepared: compute the report, draw the charts, then download
// the PDF. Without JavaScript the link simply downloads the PDF.
(function () {
  "use strict";
  var link = document.getElementById("pdf-link");
  var bar = document.getElementById("pdf-progress");
  if (!link || !bar || !window.fetch) { return; }
  link.addEventListener("click", function (event) {
    event.preventDefault();
    var pdfUrl = link.getAttribute("href");
    var prepareUrl = pdfUrl.replace("/report.pdf", "/prepare");
    bar.hidden = false;
    bar.value = 5;
    link.setAttribute("aria-busy", "true");
    fetch(prepareUrl + (prepareUrl.indexOf("?") < 0 ? "?" : "&") + "step=report", {credentials: "same-origin"})
      .then(function () { bar.value = 40; return fetch(prepareUrl + (prepareUrl.indexOf("?") < 0 ? "?" : "&") + "step=charts", {credentials: "same-origin"}); })
      .then(function () { bar.value = 70; return fetch(pdfUrl, {credentials: "same-origin"}); })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.blob();
      })
      .then(function (blob) {
        bar.value = 100;
        link.removeAttribute("aria-busy");
        window.location.href = URL.createObjectURL(blob);
      })
      .catch(function () {
        link.removeAttribute("aria-busy");
        window.location.href = pdfUrl;
      });
  });
})();
