// The workforce plan page (templates/workforce/plan.html): charts, and the form redrawn in place.
// A file of its own so that the Content Security Policy needs no inline script.
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("wf-labels").textContent);
  var charts = {};
  function pct(v) { return v == null ? "—" : (100 * v).toFixed(1) + "%"; }
  function set(id, v) { var el = document.getElementById(id); if (el) el.textContent = v; }
  function line(label, data, color, opts) {
    return Object.assign({label: label, data: data, borderColor: color, backgroundColor: color, pointRadius: 0,
                          borderWidth: 2, tension: 0.2, spanGaps: true}, opts || {});
  }
  function draw(id, labels, datasets, yOpts) {
    if (typeof Chart === "undefined") return;
    if (charts[id]) { charts[id].data.labels = labels; charts[id].data.datasets = datasets; charts[id].update(); return; }
    charts[id] = new Chart(document.getElementById(id), {type: "line", data: {labels: labels, datasets: datasets},
      options: {responsive: true, maintainAspectRatio: false, animation: false, interaction: {mode: "index", intersect: false},
                scales: {y: Object.assign({beginAtZero: true}, yOpts || {})}}});
  }
  function render(d) {
    var err = document.getElementById("wf-error");
    if (!d) return;
    if (d.error) { err.textContent = d.error.message; err.hidden = false; return; }
    err.hidden = true;
    var b = d.base, s = d.scenario, rows = b.intervals, sr = s.intervals;
    var labels = rows.map(function (r) { return r.start; });
    var vol = [line(L.forecast, rows.map(function (r) { return r.forecast; }), "#0b5cad")];
    if (rows.some(function (r) { return r.actual != null; })) vol.push(line(L.actual, rows.map(function (r) { return r.actual; }), "#1e7d3a"));
    if (s.volume_scale !== b.volume_scale) vol.push(line(L.scenario_calls, sr.map(function (r) { return r.calls; }), "#b45309", {borderDash: [5, 4]}));
    draw("chart-volume", labels, vol);
    draw("chart-staff", labels, [
      line(L.required, rows.map(function (r) { return r.required; }), "#b42318", {stepped: true, tension: 0}),
      line(L.required_c, rows.map(function (r) { return r.required_c; }), "#e08a80", {stepped: true, tension: 0, borderDash: [3, 3], borderWidth: 1}),
      line(L.scheduled, rows.map(function (r) { return r.scheduled; }), "#0b5cad", {stepped: true, tension: 0}),
      line(L.scenario_required, sr.map(function (r) { return r.required; }), "#b45309", {stepped: true, tension: 0, borderDash: [5, 4]}),
      line(L.scenario_scheduled, sr.map(function (r) { return r.scheduled; }), "#7c3aed", {stepped: true, tension: 0, borderDash: [5, 4]})]);
    draw("chart-sl", labels, [
      line(L.sl, rows.map(function (r) { return r.calls > 0 ? r.service_level : null; }), "#0b5cad"),
      line(L.scenario_sl, sr.map(function (r) { return r.calls > 0 ? r.service_level : null; }), "#b45309", {borderDash: [5, 4]}),
      line(L.target, rows.map(function () { return s.service_level_target; }), "#6b7785", {borderDash: [2, 2], borderWidth: 1})],
      {max: 1, ticks: {callback: function (v) { return Math.round(v * 100) + "%"; }}});
    set("k-calls", Math.round(b.summary.calls)); set("k-calls-s", Math.round(s.summary.calls));
    set("k-sl", pct(b.summary.service_level)); set("k-sl-s", pct(s.summary.service_level));
    set("k-ans", pct(b.summary.answer_rate)); set("k-ans-s", pct(s.summary.answer_rate));
    set("k-ab", pct(b.summary.abandon_rate)); set("k-ab-s", pct(s.summary.abandon_rate));
    set("k-agents", b.summary.agents); set("k-agents-s", s.summary.agents);
    set("k-paid", b.summary.paid_hours); set("k-paid-s", s.summary.paid_hours);
  }
  render(JSON.parse(document.getElementById("wf-data").textContent));
  var form = document.getElementById("wf-form");
  form.addEventListener("submit", function (ev) {
    if (typeof fetch === "undefined" || typeof Chart === "undefined") return;
    ev.preventDefault();
    var qs = new URLSearchParams(new FormData(form)).toString();
    var btn = form.querySelector("button[type=submit]"); btn.disabled = true;
    fetch("/console/workforce/data?" + qs, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        render(d);
        if (!d.error) {
          history.replaceState(null, "", "/console/workforce?" + qs);
          var q = document.getElementById("wf-save-query"); if (q) q.value = qs;
          var tb = document.querySelector("#wf-shifts tbody");
          tb.innerHTML = "";
          d.base.shifts.forEach(function (sh) {
            var tr = document.createElement("tr");
            [sh.start, sh.end, sh.break_start ? sh.break_start + "–" + sh.break_end : "—", sh.paid_hours, sh.agents].forEach(function (v, i) {
              var td = document.createElement("td"); td.textContent = v; if (i > 2) td.className = "num"; tr.appendChild(td);
            });
            tb.appendChild(tr);
          });
        }
      })
      .finally(function () { btn.disabled = false; });
  });
})();
