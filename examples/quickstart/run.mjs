#!/usr/bin/env node
// transllm quickstart: the TransLLM pipeline end to end on the bundled sample data (real Thai and English text from
// the UDHR plus a few hand-written records) — `transllm run examples/quickstart/transllm.yaml`, then the status table
// and the report's path. `pnpm demo` builds first, then runs this. A second run finds every stage up to date and
// does nothing; edit transllm.yaml (or a data file) and only the stages it touches run again.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const cli = join(root, "packages", "transllm", "dist", "cli.js");
const config = relative(root, join(here, "transllm.yaml"));
const model = join(here, "model");

if (!existsSync(cli)) {
	console.error(`transllm is not built (${relative(root, cli)} is missing): run \`npx -y pnpm@10 build\` or \`npx -y pnpm@10 demo\``);
	process.exit(1);
}

/** Runs a command with node from the repository root, its output shown as it comes; stops the demo on failure. */
function node(args, what) {
	console.log(`\n$ ${what}`);
	const run = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
	if (run.status !== 0) {
		console.error(`${what} failed with exit code ${run.status}`);
		process.exit(run.status ?? 1);
	}
}

// The stand-in for your exported chat model: a tiny Llama with RANDOM (seeded) weights, built once. Everything it
// writes is gibberish; with a real model, point base_model.model at its Optimum ONNX export instead.
const fixture = join(here, "scripts", "build-fixture.mjs");
if (!existsSync(join(model, "config.json"))) node([fixture, model], `node ${relative(root, fixture)} ${relative(root, model)}`);
// The checkpoint that the extend stage resizes and the training stages train: Llama-3's tokenizer, random weights.
const checkpoint = join(here, "checkpoint");
const llama3 = join(here, "node_modules", "@lenml", "tokenizer-llama3", "models");
if (!existsSync(join(checkpoint, "config.json"))) node([fixture, checkpoint, llama3], `node ${relative(root, fixture)} ${relative(root, checkpoint)} ${relative(root, llama3)}`);
console.log(
	`\nbase model: ${relative(root, model)}/ — a tiny Llama whose weights are random, so its KD answers and translations are gibberish (the language check flags every one, and the later stages use the bundled translations instead): it stands in for your exported chat model and runs the same code path.`,
);
const started = Date.now();
node([cli, "run", config], `transllm run ${config}`);
node([cli, "status", config], `transllm status ${config}`);
console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Report: ${relative(root, join(here, "out", "report.html"))} (and report.json); every stage's outputs are in ${relative(root, join(here, "out"))}/<stage>/, its log in out/logs/.`);
