// A data-only pipeline on the quickstart's real Thai/English data in a temporary folder: clean (the corpus split into
// three files so that three ranks have work), translation pre-training text, TCOT data and CLO pairs — the stages
// that need no model, so the tests stay fast. Helpers run the built CLI as users do.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLlamaFixture } from "@transllm/runtime";

export const root = fileURLToPath(new URL("../../..", import.meta.url));
export const cli = join(root, "packages", "transllm", "dist", "cli.js");
const data = join(root, "examples", "quickstart", "data");

/** Writes the data files and a transllm.yaml into `dir`; returns the config path. */
export function dataPipeline(dir: string, options: { worldSize?: number; executor?: "local" | "slurm"; slurm?: string; extra?: string; workdir?: string } = {}): string {
	mkdirSync(join(dir, "data"), { recursive: true });
	const lines = readFileSync(join(data, "corpus.th.jsonl"), "utf8").split("\n").filter(Boolean);
	const parts = [0, 1, 2].map((part) => lines.filter((_, index) => index % 3 === part));
	parts.forEach((part, index) => writeFileSync(join(dir, "data", `corpus-${index}.th.jsonl`), `${part.join("\n")}\n`));
	for (const name of ["sensitive-words.th.txt", "parallel.en-th.jsonl", "english.jsonl", "kd.translated.th.jsonl"]) writeFileSync(join(dir, "data", name), readFileSync(join(data, name)));
	const config = join(dir, "transllm.yaml");
	writeFileSync(
		config,
		`workdir: ${options.workdir ?? "work"}
languages:
  th:
    corpus: [data/corpus-0.th.jsonl, data/corpus-1.th.jsonl, data/corpus-2.th.jsonl]
    word_lists: [data/sensitive-words.th.txt]
    parallel: [data/parallel.en-th.jsonl]
    english: [data/english.jsonl]
    translated: [data/kd.translated.th.jsonl]
base_model:
  model: model
executor:
  type: ${options.executor ?? "local"}
  workers: 2
  world_size: ${options.worldSize ?? 1}
${options.slurm ? `  slurm:\n${options.slurm}\n` : ""}clean:
  min_chars: 50
fertility:
  enabled: false
tcot:
  val_size: 4
clo:
  enabled: true
  batch_size: 4
${options.extra ?? ""}`,
	);
	return config;
}

export interface CliRun {
	code: number | null;
	stdout: string;
	stderr: string;
}

/** Runs the built CLI; `onSpawn` gets the child (to kill it). */
export function transllm(args: string[], options: { env?: NodeJS.ProcessEnv; onSpawn?: (child: ReturnType<typeof spawn>) => void } = {}): Promise<CliRun> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
		child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
		child.on("error", reject);
		child.on("close", (code) => resolve({ code, stdout, stderr }));
		options.onSpawn?.(child);
	});
}

/** sha256 of every final output the lock file records, by path relative to the work dir. */
export function outputHashes(workdir: string): Record<string, string> {
	const lock = JSON.parse(readFileSync(join(workdir, "transllm.lock.json"), "utf8")) as { stages: Record<string, { outputs: Record<string, string> }> };
	const hashes: Record<string, string> = {};
	for (const stage of Object.values(lock.stages)) {
		for (const path of Object.keys(stage.outputs)) hashes[path] = createHash("sha256").update(readFileSync(join(workdir, path))).digest("hex");
	}
	return hashes;
}

/** The KD stages with the fixture model generating and translating (4 English queries of the quickstart). */
export const KD_EXTRA = "kd:\n  queries: data/queries.en.jsonl\n  max_tokens: 8\n  translation:\n    backend: local\n    max_tokens: 8\n";

/** A tiny random Llama in `<dir>/model` and the quickstart's KD queries in `<dir>/data`, for KD_EXTRA. */
export async function kdFixture(dir: string): Promise<void> {
	await buildLlamaFixture({ dir: join(dir, "model"), layers: 1, hidden: 32, heads: 2, kvHeads: 1, intermediate: 64, seed: "sharded" });
	dataPipeline(dir);
	copyFileSync(join(root, "examples", "quickstart", "data", "queries.en.jsonl"), join(dir, "data", "queries.en.jsonl"));
}
