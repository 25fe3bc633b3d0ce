// Bar charts of the dashboard and the report, on Chart.js (only the bar chart's parts are
// registered, so the bundle carries nothing else). Charts draw without animation, so what the
// page shows is final as soon as it is drawn, on screen, in print and in tests.

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);
Chart.defaults.font.size = 15;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif';
Chart.defaults.color = '#111';

/** Colours that stay apart for colour-blind readers (Okabe–Ito) and in greyscale print. */
export const COLOURS = ['#0b3d91', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#666666'];

/**
 * A bar chart on `canvas`. `series` is [{label, data}]; `format` writes a value for the axis
 * and the tooltip. `horizontal` puts the categories on the vertical axis (long names).
 * @param {HTMLCanvasElement} canvas
 * @param {{labels: string[], series: {label: string, data: number[]}[], format: (v: number) => string, horizontal?: boolean, stacked?: boolean}} spec
 */
export function barChart(canvas, spec) {
  const chart = new Chart(canvas, {
    type: 'bar',
    data: dataOf(spec),
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      // Sharp when printed.
      devicePixelRatio: Math.max(2, globalThis.devicePixelRatio ?? 1),
      indexAxis: spec.horizontal ? 'y' : 'x',
      plugins: {
        legend: { display: spec.series.length > 1 },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${spec.format(c.raw)}` } },
      },
      scales: {
        [spec.horizontal ? 'x' : 'y']: { beginAtZero: true, stacked: spec.stacked, ticks: { precision: 0, callback: (v) => spec.format(v) } },
        [spec.horizontal ? 'y' : 'x']: { stacked: spec.stacked, ticks: { autoSkip: false, callback: shortLabel } },
      },
    },
  });
  chart.$format = spec.format;
  return chart;
}

/**
 * A category's label, cut with an ellipsis when it is long for the chart's width (a phone): the
 * whole name stays in the tooltip and in the table beside the chart.
 * @this {import('chart.js').Scale} @param {number} value
 */
function shortLabel(value) {
  const label = String(this.getLabelForValue(value));
  const max = Math.max(12, Math.floor(this.chart.width / 20));
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

function dataOf(spec) {
  return {
    labels: spec.labels,
    datasets: spec.series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: COLOURS[i % COLOURS.length] })),
  };
}

/** Redraws a chart with new labels and values (the live dashboard). */
export function updateChart(chart, spec) {
  chart.data = dataOf(spec);
  chart.options.plugins.legend.display = spec.series.length > 1;
  const valueAxis = chart.options.indexAxis === 'y' ? 'x' : 'y';
  chart.options.scales[valueAxis].ticks.callback = (v) => spec.format(v);
  chart.options.plugins.tooltip.callbacks.label = (c) => `${c.dataset.label}: ${spec.format(c.raw)}`;
  chart.update('none');
}

/** Fits every chart to the printed page before printing, and back to the screen after. */
export function fitChartsForPrint(charts) {
  addEventListener('beforeprint', () => {
    for (const c of charts()) c.resize();
  });
  addEventListener('afterprint', () => {
    for (const c of charts()) c.resize();
  });
}
