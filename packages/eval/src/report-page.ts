import { writeFileAtomic } from "@transllm/core";
import { escapeHtml } from "./html.js";
import { readEvalResult } from "./report-section.js";
import type { EvalResult } from "./report-section.js";

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}caption{caption-side:top;text-align:left;font-weight:bold;padding:.3em 0}
.paper{color:#666;font-size:.85em}nav li{margin:.2em 0}svg{display:block;margin:1em 0}`;

// Results in the order of the paper's evaluation: helpfulness, safety, forgetting, language, translation.
const ORDER = ["judge", "single", "safety", "forgetting", "language", "translate", "answer"];

/**
 * `eval report`: one self-contained HTML page (inline CSS and SVG, no script, no external resource) from the result
 * files the eval commands wrote, each as a section with its paper reference.
 */
export function renderReport(results: readonly EvalResult[], options: { title?: string } = {}): string {
	const sorted = [...results].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
	const title = options.title ?? "TransLLM evaluation report";
	const sections = sorted.map((result, i) => `<section id="s${i + 1}"><h2>${escapeHtml(result.section.title)}</h2><p class="paper">${escapeHtml(result.paper)}</p>\n${result.section.html}\n</section>`);
	return [
		"<!DOCTYPE html>",
		'<html lang="en"><head><meta charset="utf-8">',
		`<title>${escapeHtml(title)}</title>`,
		`<style>${STYLE}</style></head><body>`,
		`<h1>${escapeHtml(title)}</h1>`,
		`<nav><ol>${sorted.map((r, i) => `<li><a href="#s${i + 1}">${escapeHtml(r.section.title)}</a></li>`).join("")}</ol></nav>`,
		...sections,
		"</body></html>",
		"",
	].join("\n");
}

/** Reads result files and writes the report page atomically. */
export async function writeReport(resultFiles: readonly string[], out: string, options: { title?: string } = {}): Promise<{ out: string; sections: number }> {
	const results = await Promise.all(resultFiles.map((path) => readEvalResult(path)));
	await writeFileAtomic(out, renderReport(results, options));
	return { out, sections: results.length };
}
