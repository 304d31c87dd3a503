// The dashboard's weekly responses chart (Chart.js from npm; data from json_script).
(function () {
  "use strict";
  var canvas = document.getElementById("responses-per-week");
  var source = document.getElementById("responses-per-week-data");
  if (!canvas || !source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  var format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { day: "numeric", month: "short" });
  var labels = data.labels.map(function (iso) { return format.format(new Date(iso + "T00:00:00")); });
  function series(label, values, colour) {
    return { label: label, data: values, backgroundColor: colour, borderRadius: 3, maxBarThickness: 38 };
  }
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: labels,
      datasets: [
        series("Unhappy", data.unhappy, "#b91c1c"),
        series("Neutral", data.neutral, "#d97706"),
        series("Happy", data.happy, "#15803d"),
      ],
    },
    options: {
      maintainAspectRatio: false,
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 400 },
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: true, grid: { display: false }, title: { display: true, text: "Week starting" } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: {
        legend: { position: "bottom", reverse: true, labels: { boxWidth: 12 } },
        tooltip: { reverse: true },
      },
    },
  });
})();
