import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "@transllm/core";
import type { PipelineConfig } from "./config.js";
import { faultPoint } from "./fault-point.js";
import { readLockFile } from "./lock-file.js";
import type { StageRecord } from "./lock-file.js";
import { WAITING_FILE, stageLogPath } from "./stage-dir.js";
import type { Stage } from "./stage.js";

export interface ReportStage {
	name: string;
	title: string;
	paper: string;
	state: "done" | "not run" | "disabled" | "waiting for training";
	note?: string;
	seconds?: number;
	finishedAt?: string;
	figures?: Record<string, unknown>;
	outputs?: string[];
	log: string;
}

export interface PipelineReport {
	config: string;
	workdir: string;
	languages: string[];
	baseModel: string;
	executor: PipelineConfig["executor"];
	stages: ReportStage[];
}

function readWaiting(workdir: string, stage: string): { commands: string[] } | undefined {
	try {
		return JSON.parse(readFileSync(join(workdir, stage, WAITING_FILE), "utf8")) as { commands: string[] };
	} catch {
		return undefined;
	}
}

/** The report's data: per stage its state and the figures recorded in the lock file. */
export async function buildReport(config: PipelineConfig, stages: readonly Stage[]): Promise<PipelineReport> {
	const lock = await readLockFile(config.workdir);
	return {
		config: config.file,
		workdir: config.workdir,
		languages: Object.keys(config.languages),
		baseModel: config.base_model.model,
		executor: config.executor,
		stages: stages.map((stage): ReportStage => {
			const off = stage.disabled(config);
			const record: StageRecord | undefined = lock.stages[stage.name];
			const log = stageLogPath(config.workdir, stage.name);
			if (off !== undefined && !record) return { name: stage.name, title: stage.title, paper: stage.paper, state: "disabled", note: off, log };
			const waiting = readWaiting(config.workdir, stage.name);
			if (!record && waiting) return { name: stage.name, title: stage.title, paper: stage.paper, state: "waiting for training", note: `run: ${waiting.commands.join(" && ")}`, log };
			if (!record) return { name: stage.name, title: stage.title, paper: stage.paper, state: "not run", log };
			return { name: stage.name, title: stage.title, paper: stage.paper, state: "done", seconds: record.seconds, finishedAt: record.finishedAt, figures: record.figures, outputs: Object.keys(record.outputs), log };
		}),
	};
}

const escapeHtml = (text: string): string => text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c] as string);
const fmt = (value: unknown): string => (typeof value === "number" ? (Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(3)) : escapeHtml(typeof value === "string" ? value : JSON.stringify(value)));

/** A horizontal bar chart as inline SVG (no script, no external resource). */
export function barChart(title: string, bars: readonly [string, number][]): string {
	if (bars.length === 0) return "";
	const max = Math.max(1, ...bars.map(([, n]) => n));
	const row = 22;
	const label = Math.min(420, 12 + 7 * Math.max(...bars.map(([name]) => name.length)));
	const width = label + 400;
	const height = 28 + bars.length * row;
	const rows = bars
		.map(([name, n], i) => {
			const y = 24 + i * row;
			const w = Math.round(((width - label - 60) * n) / max);
			return `<text x="${label - 6}" y="${y + 14}" text-anchor="end">${escapeHtml(name)}</text><rect x="${label}" y="${y + 2}" width="${w}" height="16" fill="#4a7bd0"/><text x="${label + w + 4}" y="${y + 14}">${n}</text>`;
		})
		.join("");
	return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12"><text x="0" y="14" font-weight="bold">${escapeHtml(title)}</text>${rows}</svg>`;
}

function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
	if (rows.length === 0) return "";
	return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${fmt(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

/** An SVG written by a stage, inlined (the XML prolog dropped). */
async function inlineSvg(path: string): Promise<string> {
	const svg = await readFile(path, "utf8").catch(() => "");
	return svg.replace(/^<\?xml[^>]*>\s*/, "");
}

type Figures = Record<string, unknown>;
const perLanguage = (figures: Figures | undefined, languages: readonly string[]): [string, Figures][] =>
	languages.filter((lang) => figures?.[lang] && typeof figures[lang] === "object").map((lang) => [lang, figures?.[lang] as Figures]);

/** What a user checks before spending GPU hours, per stage (TransLLM's data steps). */
async function stageDetails(stage: ReportStage, report: PipelineReport): Promise<string> {
	const f = stage.figures;
	if (!f) return "";
	const parts: string[] = [];
	const langs = report.languages;
	switch (stage.name) {
		case "clean":
			for (const [lang, c] of perLanguage(f, langs)) {
				parts.push(`<h4>${escapeHtml(lang)}: ${fmt(c.read)} documents read → ${fmt(c.filtered)} after filters → ${fmt(c.kept)} kept</h4>`);
				parts.push(barChart(`dropped per filter (${lang})`, Object.entries((c.dropped ?? {}) as Record<string, number>)));
				const dedup = c.dedup as Record<string, number> | undefined;
				if (dedup) parts.push(table(["dedup documents", "kept", "removed", "clusters", "candidate pairs"], [[dedup.documents, dedup.kept, dedup.removed, dedup.clusters, dedup.candidatePairs]]));
				const examples = Object.entries((c.droppedExamples ?? {}) as Record<string, { reason: string; id: string; text: string }[]>).flatMap(([filter, list]) => list.map((e) => [filter, e.reason, e.id, e.text]));
				parts.push(table(["filter", "reason", "id", "dropped text (start)"], examples));
			}
			break;
		case "fertility":
			for (const lang of langs) parts.push(await inlineSvg(join(report.workdir, "fertility", `${lang}.svg`)));
			for (const [lang, c] of perLanguage(f, langs)) {
				const points = (c.points ?? []) as { k: number; added: number; tokensPerWord: Record<string, number> }[];
				const sets = [...new Set(points.flatMap((p) => Object.keys(p.tokensPerWord)))];
				parts.push(table(["language", "K", "added", ...sets.map((s) => `tokens/word (${s})`)], points.map((p) => [lang, p.k, p.added, ...sets.map((s) => p.tokensPerWord[s])])));
			}
			break;
		case "extend":
			parts.push(table(["language", "added tokens", "special tokens", "vocabulary"], [[f.lang, f.added, ((f.specialTokens ?? []) as string[]).join(" "), f.vocabSize]]));
			parts.push(table(["check", "ok"], ((f.checks ?? []) as { name: string; ok: boolean }[]).map((c) => [c.name, c.ok ? "yes" : "NO"])));
			break;
		case "pretraining":
			parts.push(table(["language", "pairs read", "kept", "sampled", "English documents", "pre-training records"], perLanguage(f, langs).map(([lang, c]) => [lang, c.read, c.kept, c.sampled, c.english ?? 0, c.pretrainingRecords ?? 0])));
			for (const [lang, c] of perLanguage(f, langs)) parts.push(barChart(`pairs dropped per filter (${lang})`, Object.entries((c.dropped ?? {}) as Record<string, number>)));
			break;
		case "augment":
			parts.push(table(["language", "pairs read", "pseudo-parallel pairs", "words replaced", "lexicon entries", "lexicon languages"], perLanguage(f, langs).map(([lang, c]) => [lang, c.pairs, c.augmented, c.replacedWords, c.lexiconEntries, c.lexiconLanguages])));
			break;
		case "kd-generate":
			parts.push(barChart("finish reasons", Object.entries((f.finishReasons ?? {}) as Record<string, number>)));
			parts.push(table(["flag", "records"], Object.entries((f.flagged ?? {}) as Record<string, number>)));
			parts.push(table(["id", "flags", "query", "answer (start)"], ((f.flaggedExamples ?? []) as { id: string; flags: string[]; query: string; response: string }[]).map((e) => [e.id, e.flags.join(", "), e.query, e.response])));
			break;
		case "kd-translate":
			for (const [lang, c] of perLanguage(f, langs)) parts.push(`<h4>${escapeHtml(lang)}: ${fmt(c.records)} records</h4>`, barChart(`translation flags (${lang})`, Object.entries((c.flagged ?? {}) as Record<string, number>)));
			break;
		case "tcot": {
			const instances = (f.instances ?? {}) as Record<string, Record<string, Record<string, number>>>;
			const rows: unknown[][] = [];
			for (const [split, kinds] of Object.entries(instances)) for (const [kind, byLang] of Object.entries(kinds)) for (const [lang, n] of Object.entries(byLang)) rows.push([split, kind, lang, n]);
			parts.push("<h4>training-data mix</h4>", table(["split", "kind", "language", "instances"], rows));
			parts.push(table(["pre-training records", "pre-training lines", "special tokens"], [[f.pretrainingRecords, f.pretrainingLines, ((f.specialTokens ?? []) as string[]).join(" ")]]));
			break;
		}
		case "probe":
			parts.push(await inlineSvg(join(report.workdir, "probe", "probe.svg")));
			parts.push(table(["language", "λ", "English pivot", "pivot layer", "layers", "examples"], perLanguage(f, langs).map(([lang, c]) => [lang, c.lambda, String(c.pivoted), c.pivotLayer, c.layers, c.examples])));
			break;
		case "eval": {
			// Each @transllm/eval result carries its own report section (inline CSS-free HTML and SVG).
			for (const output of stage.outputs ?? []) {
				if (!output.endsWith(".json")) continue;
				const result = JSON.parse(await readFile(join(report.workdir, output), "utf8").catch(() => "{}")) as { section?: { title: string; html: string } };
				if (result.section) parts.push(`<h4>${escapeHtml(result.section.title)}</h4>${result.section.html}`);
			}
			break;
		}
		case "train-plan":
			parts.push(table(["engine", "stages", "vocabulary", "embedding rows", "tokenizer size"], [[f.engine, f.stages, f.vocabulary, f.embeddingRows, f.tokenizerSize]]));
			break;
		case "train-target":
		case "train-translation":
		case "train-transfer":
		case "train-merge":
			parts.push(
				f.step === "merge"
					? table(["engine", "step", "merged weight bytes", "output"], [[f.engine, f.step, f.weightBytes, f.output]])
					: table(["engine", "step", "optimizer steps", "training loss (first → last)", "validation loss", "output"], [[f.engine, f.step, f.steps, f.lossFirst === undefined ? "" : `${f.lossFirst} → ${f.lossLast}`, f.evalLoss ?? "", f.output]]),
			);
			break;
		case "export":
			parts.push(table(["model type", "precision", "parameters", "weight bytes"], [[f.modelType, f.precision, f.parameters, f.weightBytes]]));
			break;
		case "clo":
			parts.push(table(["language", "records", "pairs", "train", "validation", "dropped", "audited", "steps"], perLanguage(f, langs).map(([lang, c]) => [lang, c.records, c.pairs, c.trainPairs, c.validationPairs, c.droppedPairs, c.audited, c.steps])));
			break;
		default:
			break;
	}
	if (parts.filter(Boolean).length === 0) parts.push(`<pre>${escapeHtml(JSON.stringify(f, null, 2))}</pre>`);
	return parts.join("\n");
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
h1{font-size:1.6em}section{border-top:1px solid #ccc;padding:.4em 0 1em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f3f8}.state{font-weight:bold;padding:1px 6px;border-radius:3px}.done{background:#d6f0d6}.not-run{background:#f6e3c6}.disabled{background:#e6e6e6}.waiting-for-training{background:#f3e08a}
code{font-size:.9em}svg{display:block;margin:.6em 0;max-width:100%;height:auto}`;

/** report.html: one self-contained file (inline CSS and SVG; no script, no network). */
export async function renderReportHtml(report: PipelineReport): Promise<string> {
	const sections: string[] = [];
	for (const stage of report.stages) {
		const state = `<span class="state ${stage.state.replaceAll(" ", "-")}">${escapeHtml(stage.state)}</span>`;
		sections.push(
			`<section id="${escapeHtml(stage.name)}"><h2>${escapeHtml(stage.name)} ${state}</h2><p>${escapeHtml(stage.title)} — <em>${escapeHtml(stage.paper)}</em>${stage.note ? ` — ${escapeHtml(stage.note)}` : ""}${stage.seconds !== undefined ? ` — ${stage.seconds} s` : ""}</p>${await stageDetails(stage, report)}${
				stage.outputs?.length ? `<details><summary>outputs (${stage.outputs.length})</summary><ul>${stage.outputs.map((o) => `<li><code>${escapeHtml(o)}</code></li>`).join("")}</ul></details>` : ""
			}</section>`,
		);
	}
	const overview = table(
		["stage", "state", "seconds"],
		report.stages.map((s) => [s.name, s.state, s.seconds ?? ""]),
	);
	return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>transllm report</title><style>${STYLE}</style></head>
<body><h1>transllm pipeline report</h1>
<p>config <code>${escapeHtml(report.config)}</code>; languages ${escapeHtml(report.languages.join(", "))}; base model <code>${escapeHtml(report.baseModel)}</code>; executor ${escapeHtml(report.executor.type)} (world size ${report.executor.world_size})</p>
${overview}
${sections.join("\n")}
</body></html>
`;
}

/** Writes report.json and report.html into the work dir (atomically); returns the HTML path. */
export async function writeReport(config: PipelineConfig, stages: readonly Stage[]): Promise<string> {
	const report = await buildReport(config, stages);
	await writeJsonAtomic(join(config.workdir, "report.json"), report);
	faultPoint("report");
	const html = join(config.workdir, "report.html");
	await writeFileAtomic(html, await renderReportHtml(report));
	return html;
}
