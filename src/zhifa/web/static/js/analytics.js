// The performance page: two ECharts bar charts (rates in %, median minutes) per squad or officer,
// drawn from the JSON the server put in #kpi-data. A missing value (nothing to divide) is a gap.
(function () {
  "use strict";

  var PALETTE = ["#0b5cad", "#067647", "#b42318"];

  function draw(el, names, series, axisName, max) {
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      color: PALETTE,
      textStyle: { fontSize: 16 },
      tooltip: { trigger: "axis", textStyle: { fontSize: 16 } },
      legend: { top: 0, textStyle: { fontSize: 16 } },
      grid: { left: 60, right: 20, top: 50, bottom: 60 },
      xAxis: { type: "category", data: names, axisLabel: { fontSize: 15, interval: 0, rotate: names.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", name: axisName, max: max, nameTextStyle: { fontSize: 15 }, axisLabel: { fontSize: 15 } },
      series: series.map(function (s) {
        return { name: s.name, type: "bar", data: s.data.map(function (v) { return v === null ? "-" : v; }),
                 label: { show: names.length <= 8, position: "top", fontSize: 14 } };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("kpi-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var rates = document.getElementById("kpi-rates");
    var medians = document.getElementById("kpi-medians");
    if (rates) { draw(rates, data.names, data.rates, data.percent_axis, 100); }
    if (medians) { draw(medians, data.names, data.medians, data.minutes_axis, null); }
  });
})();
