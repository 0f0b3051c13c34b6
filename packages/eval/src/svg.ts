import { escapeHtml } from "./html.js";

/** One bar: a value, optionally with an interval drawn as a whisker. */
export interface Bar {
	label: string;
	value: number;
	low?: number;
	high?: number;
}

const FONT = 'font-family="sans-serif" font-size="11"';

function niceRange(values: readonly number[]): [number, number] {
	let min = Math.min(0, ...values);
	let max = Math.max(0, ...values);
	if (min === max) max = min + 1;
	const pad = (max - min) * 0.05;
	return [min < 0 ? min - pad : 0, max + pad];
}

/**
 * A horizontal bar chart with interval whiskers (Δ with its bootstrap 95% interval per category), as inline SVG
 * that a report page embeds without any script.
 */
export function barChartSvg(bars: readonly Bar[], options: { title?: string; unit?: string; width?: number } = {}): string {
	const width = options.width ?? 560;
	const labelWidth = 150;
	const rowHeight = 22;
	const top = options.title ? 24 : 8;
	const height = top + bars.length * rowHeight + 24;
	const [min, max] = niceRange(bars.flatMap((b) => [b.value, b.low ?? b.value, b.high ?? b.value]));
	const plot = width - labelWidth - 16;
	const x = (v: number): number => labelWidth + ((v - min) / (max - min)) * plot;
	const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`];
	if (options.title) parts.push(`<text x="${width / 2}" y="15" text-anchor="middle" ${FONT} font-weight="bold">${escapeHtml(options.title)}</text>`);
	bars.forEach((bar, i) => {
		const y = top + i * rowHeight;
		const from = x(Math.min(0, bar.value));
		const to = x(Math.max(0, bar.value));
		parts.push(`<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end" ${FONT}>${escapeHtml(bar.label)}</text>`);
		parts.push(`<rect x="${from.toFixed(1)}" y="${y + 4}" width="${Math.max(0.5, to - from).toFixed(1)}" height="${rowHeight - 8}" fill="${bar.value >= 0 ? "#4c78a8" : "#e45756"}"/>`);
		if (bar.low !== undefined && bar.high !== undefined) {
			const mid = y + rowHeight / 2;
			parts.push(`<path d="M${x(bar.low).toFixed(1)} ${mid}H${x(bar.high).toFixed(1)}M${x(bar.low).toFixed(1)} ${mid - 5}V${mid + 5}M${x(bar.high).toFixed(1)} ${mid - 5}V${mid + 5}" stroke="#222" fill="none"/>`);
		}
		parts.push(`<text x="${(to + 3).toFixed(1)}" y="${y + 14}" ${FONT} fill="#222">${bar.value.toFixed(2)}</text>`);
	});
	const axisY = top + bars.length * rowHeight + 4;
	parts.push(`<path d="M${x(0).toFixed(1)} ${top}V${axisY}" stroke="#888"/>`);
	parts.push(`<text x="${labelWidth}" y="${axisY + 14}" ${FONT}>${min.toFixed(1)}</text><text x="${width - 16}" y="${axisY + 14}" text-anchor="end" ${FONT}>${max.toFixed(1)}${escapeHtml(options.unit ?? "")}</text>`);
	parts.push("</svg>");
	return parts.join("");
}

/** Bin counts of `values` over [min, max] in `bins` equal bins (the last bin closed). */
export function histogram(values: readonly number[], bins: number): { min: number; max: number; counts: number[] } {
	let min = Math.min(...values);
	let max = Math.max(...values);
	if (!Number.isFinite(min)) return { min: 0, max: 1, counts: new Array<number>(bins).fill(0) };
	if (min === max) {
		min -= 0.5;
		max += 0.5;
	}
	const counts = new Array<number>(bins).fill(0);
	for (const v of values) {
		const k = Math.min(bins - 1, Math.floor(((v - min) / (max - min)) * bins));
		counts[k] = (counts[k] as number) + 1;
	}
	return { min, max, counts };
}

/** A histogram as inline SVG (Table 8's per-example change of P(y|x)). */
export function histogramSvg(values: readonly number[], options: { bins?: number; title?: string; xLabel?: string; width?: number; height?: number } = {}): string {
	const { min, max, counts } = histogram(values, options.bins ?? 30);
	const width = options.width ?? 560;
	const height = options.height ?? 220;
	const left = 40;
	const bottom = 36;
	const top = 24;
	const plotW = width - left - 10;
	const plotH = height - top - bottom;
	const peak = Math.max(1, ...counts);
	const barW = plotW / counts.length;
	const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`];
	if (options.title) parts.push(`<text x="${width / 2}" y="15" text-anchor="middle" ${FONT} font-weight="bold">${escapeHtml(options.title)}</text>`);
	counts.forEach((count, i) => {
		const h = (count / peak) * plotH;
		parts.push(`<rect x="${(left + i * barW).toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${Math.max(0.5, barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4c78a8"><title>${count}</title></rect>`);
	});
	parts.push(`<path d="M${left} ${top}V${top + plotH}H${left + plotW}" stroke="#888" fill="none"/>`);
	parts.push(`<text x="${left}" y="${top + plotH + 14}" ${FONT}>${min.toPrecision(3)}</text><text x="${left + plotW}" y="${top + plotH + 14}" text-anchor="end" ${FONT}>${max.toPrecision(3)}</text>`);
	parts.push(`<text x="${left - 4}" y="${top + 8}" text-anchor="end" ${FONT}>${peak}</text>`);
	if (options.xLabel) parts.push(`<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle" ${FONT}>${escapeHtml(options.xLabel)}</text>`);
	parts.push("</svg>");
	return parts.join("");
}
