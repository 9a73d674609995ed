// The portal's charts, drawn with Chart.js (served from the npm package, never a CDN).
// - <canvas data-chart="ID">: generic bar chart from <script id="ID">: {labels, series:[{label, data}]}.
// - <canvas data-enrollment="ID">: cumulative enrollment (planned, actual, forecast median and 90% band).
// - <canvas data-milestones="ID">: milestone timeline (baseline, planned, actual dates).
// Dates travel as ISO strings; no date adapter is installed, so the x axes are linear in days
// since 1970-01-01 (UTC) and their ticks are printed back as ISO dates.
(() => {
  const DAY_MS = 86400000;
  const day = (iso) => Date.parse(iso) / DAY_MS;
  const isoOf = (days) => new Date(Math.round(days) * DAY_MS).toISOString().slice(0, 10);
  const xy = (points) => points.map((p) => ({ x: day(p.x), y: p.y }));
  const COLORS = {
    planned: "#6c757d", actual: "#1565c0", forecast: "#ef6c00", band: "rgba(239, 108, 0, 0.18)",
    baseline: "#9e9e9e", today: "#c62828", done: "#2e7d32",
  };

  function specOf(canvas, attribute) {
    const source = document.getElementById(canvas.dataset[attribute]);
    return source ? JSON.parse(source.textContent) : null;
  }

  function dayAxis(extra) {
    return {
      type: "linear",
      ticks: { callback: (value) => isoOf(value), maxRotation: 0, autoSkipPadding: 24 },
      ...extra,
    };
  }

  function dateTooltip(format) {
    return { callbacks: { label: (ctx) => format(ctx) } };
  }

  function drawGeneric(canvas) {
    const spec = specOf(canvas, "chart");
    if (!spec) return;
    new Chart(canvas, {
      type: canvas.dataset.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map((s) => ({ label: s.label, data: s.data })),
      },
      options: { responsive: true, animation: false, scales: { y: { beginAtZero: true } } },
    });
    canvas.dataset.rendered = "true";
  }

  function enrollmentDatasets(spec) {
    const line = { showLine: true, pointRadius: 0, borderWidth: 2, fill: false };
    const datasets = [];
    const fc = spec.forecast || {};
    if (fc.low && fc.high) {
      // The 90% band: from today's count to the target, between the 5% and 95% dates.
      const band = [fc.low[0], fc.low[1], fc.high[1], fc.low[0]];
      datasets.push({ ...line, label: "Forecast 90% interval", data: xy(band), borderWidth: 0,
        backgroundColor: COLORS.band, fill: "shape" });
    }
    if (fc.median) {
      datasets.push({ ...line, label: "Forecast (median)", data: xy(fc.median),
        borderColor: COLORS.forecast, borderDash: [4, 4] });
    }
    if (spec.planned && spec.planned.length) {
      datasets.push({ ...line, label: "Planned", data: xy(spec.planned),
        borderColor: COLORS.planned, borderDash: [8, 4] });
    }
    datasets.push({ ...line, label: "Enrolled", data: xy(spec.actual || []),
      borderColor: COLORS.actual, stepped: "after", pointRadius: 2 });
    return datasets;
  }

  function drawEnrollment(canvas) {
    const spec = specOf(canvas, "enrollment");
    if (!spec) return;
    const today = day(spec.today);
    new Chart(canvas, {
      type: "scatter",
      data: { datasets: enrollmentDatasets(spec) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          x: dayAxis({ suggestedMin: today - 30, suggestedMax: today + 30 }),
          y: { beginAtZero: true, suggestedMax: spec.target || undefined,
               title: { display: true, text: "Subjects enrolled (cumulative)" } },
        },
        plugins: {
          tooltip: dateTooltip((ctx) => `${ctx.dataset.label}: ${ctx.parsed.y} on ${isoOf(ctx.parsed.x)}`),
          legend: { position: "bottom" },
        },
      },
    });
    canvas.dataset.rendered = "true";
  }

  function drawMilestones(canvas) {
    const spec = specOf(canvas, "milestones");
    if (!spec || !spec.labels.length) return;
    const point = (label, color, style, radius) => ({
      label, backgroundColor: color, borderColor: color, pointStyle: style, pointRadius: radius,
      pointHoverRadius: radius + 2,
    });
    const today = day(spec.today);
    const ends = [spec.labels[0], spec.labels[spec.labels.length - 1]];
    new Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [
          { ...point("Baseline", COLORS.baseline, "rectRot", 6), data: xy(spec.baseline) },
          { ...point("Planned", COLORS.forecast, "circle", 6), data: xy(spec.planned) },
          { ...point("Actual", COLORS.done, "rect", 7), data: xy(spec.actual) },
          { label: "Today", data: ends.map((y) => ({ x: today, y })), showLine: true,
            pointRadius: 0, borderColor: COLORS.today, borderDash: [2, 2], borderWidth: 1 },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          x: dayAxis({}),
          y: { type: "category", labels: spec.labels, offset: true, reverse: false },
        },
        plugins: {
          tooltip: dateTooltip((ctx) => `${ctx.raw.y} — ${ctx.dataset.label}: ${isoOf(ctx.parsed.x)}`),
          legend: { position: "bottom" },
        },
      },
    });
    canvas.dataset.rendered = "true";
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(drawGeneric);
    document.querySelectorAll("canvas[data-enrollment]").forEach(drawEnrollment);
    document.querySelectorAll("canvas[data-milestones]").forEach(drawMilestones);
  });
})();
