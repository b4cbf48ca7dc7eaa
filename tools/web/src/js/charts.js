// ECharts (loaded by index.html as vendor/echarts.min.js) drawn as SVG; every chart of a page is
// disposed before the next page is drawn. Tooltips show pounds from the exact pence.
import { formatPounds } from './money.js';

const charts = [];

export function drawChart(box, option) {
  const chart = window.echarts.init(box, null, { renderer: 'svg' });
  chart.setOption({ aria: { enabled: true }, animation: false, ...option });
  charts.push(chart);
  return chart;
}

export function disposeCharts() {
  while (charts.length) charts.pop().dispose();
}

// An axis label for pence: "£1.2m"-style is labelled as such on the axis name; tooltips are exact.
export function axisPounds(value) {
  const pounds = value / 100;
  if (Math.abs(pounds) >= 1e9) return `£${(pounds / 1e9).toFixed(1)}bn`;
  if (Math.abs(pounds) >= 1e6) return `£${(pounds / 1e6).toFixed(1)}m`;
  if (Math.abs(pounds) >= 1e3) return `£${(pounds / 1e3).toFixed(0)}k`;
  return `£${pounds.toFixed(0)}`;
}

// A tooltip formatter for series whose data items carry their exact pence as `pence`.
export function tooltipPounds(params) {
  const list = Array.isArray(params) ? params : [params];
  return list.map((p) => {
    const exact = p.data && p.data.pence !== undefined ? formatPounds(p.data.pence) : formatPounds(BigInt(Math.round(p.value || 0)));
    const encode = window.echarts.format.encodeHTML;
    return `${p.seriesName ? `${encode(p.seriesName)} ` : ''}${encode(p.name || '')}: ${exact}`;
  }).join('<br>');
}
