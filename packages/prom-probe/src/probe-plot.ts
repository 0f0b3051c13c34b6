import type { LayerPoint } from "./layer-curves.js";
import type { RegulationDecision } from "./regulation-decision.js";

/** One probed language: its curves and decision. */
export interface PlotPanel {
	lang: string;
	curves: readonly LayerPoint[];
	decision: RegulationDecision;
}

const WIDTH = 640;
const HEIGHT = 300;
const MARGIN = { left: 56, right: 150, top: 36, bottom: 44 };
const COLORS = { english: "#e8710a", target: "#1a73e8" };

function escapeXml(text: string): string {
	return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function panel(p: PlotPanel, offsetY: number): string {
	const layers = p.curves.length;
	const plotW = WIDTH - MARGIN.left - MARGIN.right;
	const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
	const x = (layer: number): number => MARGIN.left + (layers === 1 ? 0 : ((layer - 1) / (layers - 1)) * plotW);
	const y = (prob: number): number => offsetY + MARGIN.top + (1 - Math.max(0, Math.min(1, prob))) * plotH;
	const parts: string[] = [];
	const title = `${p.lang}: P(en) vs P(${p.lang}) by layer — λ = ${p.decision.lambda} (${p.decision.pivoted ? "English pivot" : "no English pivot"})`;
	parts.push(`<text x="${MARGIN.left}" y="${offsetY + 22}" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
	// Axes and grid.
	for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
		parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(tick)}" y2="${y(tick)}" stroke="#ddd"/>`);
		parts.push(`<text x="${MARGIN.left - 8}" y="${y(tick) + 4}" font-size="11" text-anchor="end">${tick}</text>`);
	}
	const step = Math.max(1, Math.ceil(layers / 16));
	for (let layer = 1; layer <= layers; layer += step) {
		parts.push(`<text x="${x(layer)}" y="${offsetY + HEIGHT - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">${layer}</text>`);
	}
	parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${offsetY + HEIGHT - 8}" font-size="12" text-anchor="middle">layer</text>`);
	parts.push(`<text x="14" y="${offsetY + MARGIN.top + plotH / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${offsetY + MARGIN.top + plotH / 2})">probability</text>`);
	// The averaged layer range and the pivot layer.
	const { from, to } = p.decision.range;
	parts.push(`<rect x="${x(from) - 3}" y="${y(1)}" width="${x(to) - x(from) + 6}" height="${plotH}" fill="#888" opacity="0.12"/>`);
	parts.push(`<line x1="${x(p.decision.pivotLayer)}" x2="${x(p.decision.pivotLayer)}" y1="${y(1)}" y2="${y(0)}" stroke="#555" stroke-dasharray="4 3"/>`);
	for (const [key, label] of [
		["english", "en"],
		["target", p.lang],
	] as const) {
		const color = COLORS[key];
		const upper = p.curves.map((point) => `${x(point.layer).toFixed(1)},${y(point[key].upper).toFixed(1)}`);
		const lower = p.curves.map((point) => `${x(point.layer).toFixed(1)},${y(point[key].lower).toFixed(1)}`).reverse();
		parts.push(`<polygon points="${[...upper, ...lower].join(" ")}" fill="${color}" opacity="0.2"/>`);
		parts.push(`<polyline points="${p.curves.map((point) => `${x(point.layer).toFixed(1)},${y(point[key].mean).toFixed(1)}`).join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
		const legendY = offsetY + MARGIN.top + (key === "english" ? 10 : 30);
		parts.push(`<line x1="${WIDTH - MARGIN.right + 16}" x2="${WIDTH - MARGIN.right + 40}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="3"/>`);
		parts.push(`<text x="${WIDTH - MARGIN.right + 46}" y="${legendY + 4}" font-size="12">P(${escapeXml(label)})</text>`);
	}
	parts.push(`<text x="${WIDTH - MARGIN.right + 16}" y="${offsetY + MARGIN.top + 54}" font-size="11">pivot n = ${p.decision.pivotLayer}</text>`);
	parts.push(`<text x="${WIDTH - MARGIN.right + 16}" y="${offsetY + MARGIN.top + 70}" font-size="11">bands: 95% CI</text>`);
	return parts.join("\n");
}

/** An SVG of the English and target curves with 95% bands, one panel per probed language (PROM Fig. 1, 4). */
export function probePlotSvg(panels: readonly PlotPanel[]): string {
	const height = HEIGHT * panels.length;
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
		`<rect width="${WIDTH}" height="${height}" fill="white"/>`,
		...panels.map((p, i) => panel(p, i * HEIGHT)),
		"</svg>",
		"",
	].join("\n");
}
