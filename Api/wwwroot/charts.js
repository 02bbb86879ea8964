// Time-series charts on canvas (uPlot, vendored in lib/uplot): thousands of points stay fast where SVG charts bog down.
// draw() replaces the chart an element holds; the chart follows the element's width and the page's text colour (themes).
const charts = new WeakMap();
const palette = ['#4f46e5', '#0891b2', '#d97706', '#16a34a', '#db2777', '#7c3aed', '#dc2626', '#0d9488'];

function format(value, unit) {
    if (value == null || Number.isNaN(value)) return '—';
    if (unit === 'bytes') {
        const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
        let i = 0;
        while (Math.abs(value) >= 1024 && i < units.length - 1) { value /= 1024; i++; }
        return value.toFixed(value < 10 && i > 0 ? 1 : 0) + ' ' + units[i];
    }
    const digits = Math.abs(value) < 10 && value % 1 !== 0 ? 2 : 0;
    return value.toLocaleString('en', { maximumFractionDigits: digits }) + (unit === '%' ? ' %' : unit ? ' ' + unit : '');
}

export function draw(element, data) {
    // The page may have moved on while the data travelled (the element is gone): nothing to draw into.
    if (!(element instanceof Element) || !element.isConnected) return;
    destroy(element);
    const text = getComputedStyle(element).color;
    const grid = { stroke: 'rgba(127,127,127,0.2)', width: 1 };
    const options = {
        width: Math.max(200, element.clientWidth),
        height: 200,
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
        scales: { x: data.from != null && data.to != null ? { time: true, range: () => [data.from, data.to] } : { time: true }, y: data.unit === '%' ? { range: (u, min, max) => [0, Math.max(100, max)] } : { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
        axes: [
            { stroke: text, grid, ticks: grid },
            { stroke: text, grid, ticks: grid, size: 70, values: (u, values) => values.map(v => format(v, data.unit)) },
        ],
        series: [{}, ...data.series.map((s, i) => ({ label: s.label, stroke: palette[i % palette.length], width: 1.5, value: (u, v) => format(v, data.unit), spanGaps: false }))],
    };
    const chart = new uPlot(options, [data.times, ...data.series.map(s => s.values)], element);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: 200 }));
    resize.observe(element);
    charts.set(element, { chart, resize });
    element.dataset.points = String(data.times.length);
}

export function destroy(element) {
    if (!(element instanceof Element)) return;
    const held = charts.get(element);
    if (held) {
        held.resize.disconnect();
        held.chart.destroy();
        charts.delete(element);
    }
}
