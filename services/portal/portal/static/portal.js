// The portal's only script (no CDN; the pages work without it): the score sheet's running total, the progress page
// refreshing itself, the print button, and focus on the error summary.
(function () {
  "use strict";
  var form = document.getElementById("score-form");
  if (form) {
    var rawMax = Number(form.dataset.rawMax), to = Number(form.dataset.normalisedTo || 100);
    var update = function () {
      var sum = 0;
      form.querySelectorAll("input[type=radio]:checked").forEach(function (r) { sum += Number(r.value); });
      document.getElementById("raw-total").textContent = String(sum);
      document.getElementById("normalised").textContent = (sum * to / rawMax).toFixed(2);
    };
    form.addEventListener("change", update);
    update();
  }
  var job = document.getElementById("job");
  if (job && job.dataset.refresh) {
    setTimeout(function () { window.location.reload(); }, 1000);
  }
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
