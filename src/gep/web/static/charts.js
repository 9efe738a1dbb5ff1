// ECharts helpers: the vendored echarts.min.js (loaded by index.html) defines window.echarts.
// Charts are disposed whenever a page re-renders and follow their container's size.

const charts = new Map(); // chart -> ResizeObserver

export const CATEGORY_COLORS = { material: "#d9a441", regulating: "#3f8f5a", cultural: "#4a7fb5" };

export function makeChart(element, option) {
  const chart = window.echarts.init(element, null, { renderer: "canvas" });
  chart.setOption(option);
  let pending = false;
  const observer = new ResizeObserver(() => {
    if (pending) return;
    pending = true;
    // resize on the next frame: resizing inside the observer callback can re-trigger it
    requestAnimationFrame(() => {
      pending = false;
      if (!chart.isDisposed()) chart.resize();
    });
  });
  observer.observe(element);
  charts.set(chart, observer);
  return chart;
}

export function disposeCharts() {
  for (const [chart, observer] of charts) {
    observer.disconnect();
    chart.dispose();
  }
  charts.clear();
}
