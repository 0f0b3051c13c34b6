#!/usr/bin/env node
// transllm quickstart: runs the built `transllm` CLI on the bundled sample records (real Thai: hand-written KD
// translations and the UDHR in English and Thai) and prints what it made. `pnpm demo` builds first, then runs this.
// Each package adds its step to STEPS.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const cli = join(root, "packages", "transllm", "dist", "cli.js");
const data = (name) => relative(root, join(here, "data", name));
const out = (name) => relative(root, join(here, "out", name));

if (!existsSync(cli)) {
	console.error(`transllm is not built (${relative(root, cli)} is missing): run \`npx -y pnpm@10 build\` or \`npx -y pnpm@10 demo\``);
	process.exit(1);
}

function transllm(args) {
	console.log(`\n$ transllm ${args.join(" ")}`);
	const run = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
	process.stdout.write(run.stdout);
	if (run.status !== 0) {
		process.stderr.write(run.stderr);
		console.error(`transllm ${args[0]} ${args[1]} failed with exit code ${run.status}`);
		process.exit(run.status ?? 1);
	}
}

function firstRecords(path, count = Number.POSITIVE_INFINITY) {
	return readFileSync(join(root, path), "utf8").split("\n").filter(Boolean).slice(0, count).map((line) => JSON.parse(line));
}

const shorten = (text, max = 160) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const STEPS = [
	{
		title: "TCOT training data (@transllm/tcot): recovery KD + TCOT + translation, mixed with a validation split; translation pre-training text",
		run() {
			const inputs = ["--translated", data("kd.translated.th.jsonl"), "--kd", data("kd.en.jsonl"), "--parallel", data("parallel.en-th.jsonl"), "--english", data("english.jsonl")];
			transllm(["tcot", "build", ...inputs, "--langs", "th", "--val-size", "10", "--seed", "42", "--force", "-o", out("tcot/llamafactory")]);
			transllm(["tcot", "build", ...inputs, "--langs", "th", "--val-size", "10", "--seed", "42", "--force", "--format", "trl", "-o", out("tcot/trl")]);
			const train = firstRecords(out("tcot/llamafactory/train.jsonl")).map((record) => record.conversations[1].value);
			console.log("\nOne response of each kind (LLaMA-Factory sharegpt, gpt turn):");
			for (const [kind, test] of [
				["TCOT", (y) => y.startsWith("<EN> ") && y.includes(" <RESPONSE> ")],
				["recovery KD", (y) => y.startsWith("<RESPONSE> ")],
				["translation", (y) => y.startsWith("<TH> ")],
			]) {
				console.log(`  ${kind.padEnd(12)} ${shorten(train.find(test) ?? "(none)")}`);
			}
			const pretraining = firstRecords(out("tcot/llamafactory/translation_pretraining.jsonl"), 1)[0].text.split("\n");
			console.log(`  pre-training ${shorten(pretraining.find((line) => line.includes(" <TH> ")) ?? "(none)")}`);
			transllm(["tcot", "parse", "-i", data("model-outputs.th.jsonl"), "-o", out("tcot/parsed.jsonl"), "--force"]);
			for (const record of firstRecords(out("tcot/parsed.jsonl"))) {
				const status = record.complete ? "complete" : `missing ${record.missing.join(", ")}; fallback: append "${record.fallback}"`;
				console.log(`  ${record.id}: ${status}${record.response_t ? ` — ${shorten(record.response_t, 60)}` : ""}`);
			}
		},
	},
];

for (const [index, step] of STEPS.entries()) {
	console.log(`\n== ${index + 1}. ${step.title}`);
	step.run();
}
console.log(`\nDone: outputs are in ${relative(root, join(here, "out"))}/`);
