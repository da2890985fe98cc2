// The reports page (kefu/analytics/templates/reports.html): its charts drawn with Apache ECharts, served
// from the package (scripts/web-assets), in place of the server-drawn SVG, which stays when ECharts is not
// installed or scripts are off (and for print). A file of its own: the Content Security Policy allows no
// inline script.
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  var data = JSON.parse(document.getElementById("report-chart-data").textContent);
  var charts = [];
  document.querySelectorAll("[data-echart]").forEach(function (el) {
    var c = data.charts[el.getAttribute("data-echart")];
    var labels = c && c.labels ? c.labels : data.labels;  // a table's chart has its own (parts, directions)
    if (!c || !labels.length) return;
    el.hidden = false;
    var line = {name: c.line, type: "line", yAxisIndex: 1, data: c.values, connectNulls: false, symbolSize: 4};
    if (c.target != null) {
      line.markLine = {silent: true, symbol: "none", lineStyle: {type: "dashed"}, data: [{yAxis: c.target}]};
    }
    var chart = echarts.init(el, null, {renderer: "canvas"});
    chart.setOption({
      animation: false,
      tooltip: {trigger: "axis"},
      legend: {data: [c.bar, c.line], top: 0},
      grid: {left: 48, right: 48, top: 32, bottom: 28},
      xAxis: {type: "category", data: labels},
      yAxis: [{type: "value", minInterval: 1}, {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}}],
      series: [{name: c.bar, type: "bar", data: c.bars, itemStyle: {color: "#0b5cad"}}, line]
    });
    el.setAttribute("data-rendered", "");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
