// The console's charts: ECharts reads the page's JSON data block; a click on a point opens its list.
document.addEventListener("DOMContentLoaded", () => {
  const block = document.getElementById("console-data");
  if (!block || typeof echarts === "undefined") return;
  const data = JSON.parse(block.textContent);
  const charts = [];
  const open = (params, series) => {
    const s = series[params.seriesIndex];
    if (s && s.links && s.links[params.dataIndex]) window.location.href = s.links[params.dataIndex];
  };
  // Money and counts differ by orders of magnitude: each unit gets its own axis.
  const axes = (series) => {
    const units = [...new Set(series.map((s) => s.unit))];
    return {
      units,
      yAxis: units.map((u, i) => ({ type: "value", name: u, position: i === 0 ? "left" : "right",
        splitLine: { show: i === 0 }, minInterval: u === "万元" ? 0 : 1 })),
    };
  };
  const draw = (id, option, series) => {
    const el = document.getElementById(id);
    if (!el) return;
    // SVG keeps the charts crisp on phones and printable.
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    chart.on("click", (params) => open(params, series));
    charts.push(chart);
  };
  const common = (series) => ({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll" },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
  });
  (data.trends || []).forEach((t) => {
    const { units, yAxis } = axes(t.series);
    draw(t.id, {
      ...common(t.series),
      xAxis: { type: "category", data: t.months },
      yAxis,
      series: t.series.map((s) => ({ name: s.name, type: "line", data: s.data, yAxisIndex: units.indexOf(s.unit),
        symbolSize: 8, cursor: "pointer" })),
    }, t.series);
  });
  (data.bars || []).forEach((b) => {
    const { units, yAxis } = axes(b.series);
    draw(b.id, {
      ...common(b.series),
      xAxis: { type: "category", data: b.categories, axisLabel: { interval: 0, rotate: b.categories.length > 6 ? 40 : 0 } },
      yAxis,
      series: b.series.map((s) => ({ name: s.name, type: "bar", data: s.data, yAxisIndex: units.indexOf(s.unit),
        cursor: "pointer" })),
    }, b.series);
  });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
});
