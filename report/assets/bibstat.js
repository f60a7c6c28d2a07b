// Draws every chart on the page from its JSON option. The option is data in a
// <script type="application/json"> element, never code, so vendor text in it
// cannot run. Numbers on axes and in tooltips follow the page's language
// ("1 234" in Norwegian), as the tables do.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var lang = document.documentElement.lang === "en" ? "en-GB" : "nb-NO";
  var format = function (v) { return typeof v === "number" ? v.toLocaleString(lang) : v; };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var data = document.getElementById(el.getAttribute("data-chart"));
    if (!data) { return; }
    var option = JSON.parse(data.textContent);
    [].concat(option.yAxis || []).forEach(function (axis) {
      axis.axisLabel = Object.assign({}, axis.axisLabel, { formatter: format });
    });
    option.tooltip = Object.assign({}, option.tooltip, { valueFormatter: format });
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    el.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
