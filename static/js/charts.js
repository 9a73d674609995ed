// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID">: {labels, series:[{label, data}]}.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    const spec = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: canvas.dataset.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map((s) => ({ label: s.label, data: s.data })),
      },
      options: { responsive: true, animation: false, scales: { y: { beginAtZero: true } } },
    });
    canvas.dataset.rendered = "true";
  });
});
