import type { BaseTokenizer } from "./base-tokenizer.js";
import { buildExtendedTokenizer } from "./extend-tokenizer.js";
import type { ExtensionPlan } from "./extend-tokenizer.js";
import { measureFertility, tokenizerJsonEncoder } from "./fertility.js";
import type { Fertility } from "./fertility.js";

/** One point of the curve: K new tokens and the fertility on each evaluation set. */
export interface FertilityPoint {
	k: number;
	/** Tokens actually added (less than K when the corpus ran out of pairs). */
	added: number;
	vocabSize: number;
	sets: Record<string, Fertility>;
}

/** Fertility vs number of new tokens K for one language (JSON form of the curve). */
export interface FertilityCurve {
	lang: string;
	base: string;
	family: string;
	points: FertilityPoint[];
	shortfall?: string;
}

/**
 * Fertility of the base (K = 0) and of the base extended by the first K learned tokens, for each K. LLaMAX
 * (`../shared/papers/002_b49e5c8fa0bdac53.txt` Sec. 3.1, Table 1) finds that extension can hurt, so the user
 * sees what each K buys before choosing one. One plan serves every K (continued BPE is prefix-consistent).
 */
export async function fertilityCurve(params: { base: BaseTokenizer; plan: ExtensionPlan; ks: readonly number[]; sets: Record<string, readonly string[]> }): Promise<FertilityCurve> {
	const { base, plan } = params;
	const points: FertilityPoint[] = [];
	for (const k of [0, ...params.ks.filter((k) => k > 0)].sort((a, b) => a - b)) {
		const extended = buildExtendedTokenizer(base, plan, { newTokens: k });
		const encoder = tokenizerJsonEncoder(extended.tokenizerJson);
		const sets: Record<string, Fertility> = {};
		for (const [name, lines] of Object.entries(params.sets)) sets[name] = await measureFertility(encoder, lines, plan.lang);
		points.push({ k, added: extended.newTokens.length, vocabSize: extended.vocabSize, sets });
	}
	return { lang: plan.lang, base: base.dir, family: base.family, points, shortfall: plan.shortfall };
}

const escapeXml = (text: string): string => text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] as string);

/** An SVG line chart of tokens per word (solid) and per character (dashed) against K, one colour per set. */
export function fertilityCurveSvg(curve: FertilityCurve, options: { width?: number; height?: number; title?: string } = {}): string {
	const names = Object.keys(curve.points[0]?.sets ?? {});
	const legendWidth = 60 + 7 * Math.max(10, ...names.map((n) => n.length + 6));
	const width = options.width ?? 480 + legendWidth;
	const height = options.height ?? 400;
	const margin = { left: 60, right: legendWidth, top: 40, bottom: 64 };
	const plotW = width - margin.left - margin.right;
	const plotH = height - margin.top - margin.bottom;
	const ks = curve.points.map((p) => p.k);
	const maxK = Math.max(1, ...ks);
	const values = curve.points.flatMap((p) => names.flatMap((n) => [p.sets[n]?.tokensPerWord ?? 0, p.sets[n]?.tokensPerChar ?? 0]));
	const maxY = Math.max(0.1, ...values) * 1.1;
	const x = (k: number): number => margin.left + (k / maxK) * plotW;
	const y = (v: number): number => margin.top + plotH - (v / maxY) * plotH;
	const colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
	const parts: string[] = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
		`<rect width="${width}" height="${height}" fill="white"/>`,
		`<text x="${margin.left}" y="20" font-size="14">${escapeXml(options.title ?? `Fertility vs new tokens K (${curve.lang}, ${curve.family})`)}</text>`,
		`<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="black"/>`,
		`<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="black"/>`,
		`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">new tokens K (grey: tokens actually added)</text>`,
		`<text transform="translate(15 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">tokens per word / per char</text>`,
	];
	for (const point of curve.points) {
		parts.push(`<text x="${x(point.k)}" y="${margin.top + plotH + 18}" text-anchor="middle">${point.k}</text>`);
		// When the corpus ran out of pairs, show how many tokens K really added.
		if (point.added < point.k) parts.push(`<text x="${x(point.k)}" y="${margin.top + plotH + 32}" text-anchor="middle" fill="#777" font-size="10">+${point.added}</text>`);
	}
	for (let i = 0; i <= 4; i++) {
		const v = (maxY * i) / 4;
		parts.push(`<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
	}
	names.forEach((name, i) => {
		const colour = colours[i % colours.length] as string;
		for (const [metric, dash] of [
			["tokensPerWord", ""],
			["tokensPerChar", ' stroke-dasharray="5 4"'],
		] as const) {
			const points = curve.points.map((p) => `${x(p.k).toFixed(1)},${y(p.sets[name]?.[metric] ?? 0).toFixed(1)}`).join(" ");
			parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${points}"/>`);
			for (const p of curve.points) parts.push(`<circle cx="${x(p.k).toFixed(1)}" cy="${y(p.sets[name]?.[metric] ?? 0).toFixed(1)}" r="3" fill="${colour}"/>`);
		}
		const ly = margin.top + 16 + i * 36;
		parts.push(`<line x1="${width - margin.right + 12}" y1="${ly}" x2="${width - margin.right + 32}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
		parts.push(`<text x="${width - margin.right + 36}" y="${ly + 4}">${escapeXml(name)} /word</text>`);
		parts.push(`<line x1="${width - margin.right + 12}" y1="${ly + 16}" x2="${width - margin.right + 32}" y2="${ly + 16}" stroke="${colour}" stroke-width="2" stroke-dasharray="5 4"/>`);
		parts.push(`<text x="${width - margin.right + 36}" y="${ly + 20}">${escapeXml(name)} /char</text>`);
	});
	parts.push("</svg>");
	return `${parts.join("\n")}\n`;
}
