// The duplicate finder's trade-off (/console/knowledge/duplicates): moving the slider shows the threshold and
// the precision and recall the training curve expects at that point, read from the table's rows (every
// point is a row; those off the 5 % steps are hidden until chosen). Nothing is saved until the form is sent.
(function () {
  "use strict";
  var slider = document.getElementById("dup-slider");
  if (!slider) { return; }
  var shown = { target: "dup-target", threshold: "dup-threshold", precision: "dup-precision", recall: "dup-recall" };
  var picked = null;
  function show() {
    var row = document.querySelector('#dup-choices tr[data-target="' + Number(slider.value).toFixed(2) + '"]');
    if (!row) { return; }
    document.getElementById(shown.target).textContent = Math.round(Number(slider.value) * 100) + "%";
    ["threshold", "precision", "recall"].forEach(function (k) {
      document.getElementById(shown[k]).textContent = row.getAttribute("data-" + k);
    });
    if (picked && picked !== row) {
      picked.classList.remove("picked");
      if (picked.hasAttribute("data-off-step")) { picked.hidden = true; }  // back off the table
    }
    if (row.hidden) { row.hidden = false; row.setAttribute("data-off-step", ""); }
    row.classList.add("picked");
    picked = row;
  }
  slider.addEventListener("input", show);
  show();
}());
