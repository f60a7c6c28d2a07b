// Draws every chart on the page from its JSON option, and lets tables be
// sorted. The option is data in a <script type="application/json">
// element, never code, so vendor text in it cannot run. Numbers on axes and
// in tooltips follow the page's language ("1 234" in Norwegian), as the
// tables do.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var lang = document.documentElement.lang === "en" ? "en-GB" : "nb-NO";
  var format = function (v) { return typeof v === "number" ? v.toLocaleString(lang, { maximumFractionDigits: 2 }) : v; };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var data = document.getElementById(el.getAttribute("data-chart"));
    if (!data) { return; }
    var option = JSON.parse(data.textContent);
    [].concat(option.xAxis || [], option.yAxis || []).forEach(function (axis) {
      if (axis.type === "value") { axis.axisLabel = Object.assign({}, axis.axisLabel, { formatter: format, hideOverlap: true }); }
    });
    // A value axis across a phone screen, beside the names, has room for
    // few labels: about one per 120 px of what the names leave.
    [].concat(option.xAxis || []).forEach(function (axis) {
      if (axis.type === "value") { axis.splitNumber = Math.max(1, Math.floor((el.clientWidth - 140) / 120)); }
    });
    option.tooltip = Object.assign({}, option.tooltip, { valueFormatter: format, confine: true });
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    el.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  });
  document.querySelectorAll("table.sortable").forEach(sortable);
});

// sortable adds a sort button to each column heading. A cell sorts by its
// data-sort number when it has one, else by its text; a cell without a
// value (no data) sorts last either way.
function sortable(table) {
  var label = table.getAttribute("data-sort-label") || "";
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, col) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.setAttribute("aria-label", label + " " + th.textContent.trim());
    button.textContent = "⇅";
    button.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) { return compare(a.cells[col], b.cells[col], asc); });
      rows.forEach(function (r) { body.appendChild(r); });
    });
    th.appendChild(document.createTextNode(" "));
    th.appendChild(button);
  });
}

function compare(a, b, asc) {
  var ka = key(a), kb = key(b);
  if (ka === null || kb === null) { return ka === kb ? 0 : (ka === null ? 1 : -1); }
  var c = typeof ka === "number" && typeof kb === "number" ? ka - kb : String(ka).localeCompare(String(kb), document.documentElement.lang);
  return asc ? c : -c;
}

function key(cell) {
  if (!cell) { return null; }
  var s = cell.getAttribute("data-sort");
  if (s !== null) { return s === "" ? null : Number(s); }
  if (cell.classList.contains("num")) { return null; }
  return cell.textContent.trim();
}
