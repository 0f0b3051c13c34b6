import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, InputError } from "@transllm/core";

/** The verifier shipped in this package (a data file, `python/verify_llamafactory.py`). */
export const LLAMAFACTORY_VERIFIER = fileURLToPath(new URL("../python/verify_llamafactory.py", import.meta.url));

/** LLaMA-Factory's verdict on one YAML of a plan. */
export interface LlamaFactoryFileReport {
	file: string;
	ok: boolean;
	/** `train` (get_train_args) or `export` (get_infer_args). */
	command?: "train" | "export";
	/** The parsed settings, as LLaMA-Factory will use them (train files). */
	stage?: string;
	lora_rank?: number;
	lora_alpha?: number;
	learning_rate?: number;
	warmup?: number;
	cutoff_len?: number;
	error?: string;
}

export interface LlamaFactoryVerification {
	python: string;
	llamafactory: string;
	transformers: string;
	cuda: boolean;
	files: LlamaFactoryFileReport[];
	ok: boolean;
}

/**
 * Parses every LLaMA-Factory YAML of a plan (`<plan>/llamafactory/*.yaml`) with LLaMA-Factory's own argument parser in
 * the given Python: what `llamafactory-cli train` would accept or reject, before any GPU hour is spent. The field list
 * `train plan` checks against is one LLaMA-Factory release's; this check is the installed one's.
 */
export async function verifyLlamaFactoryPlan(options: { plan: string; python?: string }): Promise<LlamaFactoryVerification> {
	const python = options.python ?? "python3";
	const dir = join(options.plan, "llamafactory");
	const names = await readdir(dir).catch(() => {
		throw new InputError("no llamafactory/ directory: write the plan with `transllm train plan --engine llamafactory`", { file: dir });
	});
	const files = names.filter((name) => name.endsWith(".yaml")).sort().map((name) => join(dir, name));
	if (files.length === 0) throw new InputError("the plan has no LLaMA-Factory YAML", { file: dir });
	const lines = await new Promise<string[]>((resolve, reject) => {
		const child = spawn(python, [LLAMAFACTORY_VERIFIER, ...files], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
		child.on("error", (error) => reject(new ConfigError(`cannot run ${python}: ${error.message} (pass --python)`)));
		child.on("close", (code) => {
			const out = stdout.split("\n").filter((line) => line.startsWith("{"));
			if (out.length === 0) reject(new ConfigError(`${python} ${LLAMAFACTORY_VERIFIER} exited ${code} without a report:\n${stderr.trim().split("\n").slice(-5).join("\n")}`));
			else resolve(out);
		});
	});
	const header = JSON.parse(lines[0] as string) as { importable: boolean; error?: string; llamafactory?: string; transformers?: string; cuda?: boolean };
	if (!header.importable) throw new ConfigError(`LLaMA-Factory cannot be imported by ${python} (${header.error}): install it there (pip install llamafactory) or pass --python`);
	const reports = lines.slice(1).map((line) => JSON.parse(line) as LlamaFactoryFileReport);
	return { python, llamafactory: header.llamafactory ?? "unknown", transformers: header.transformers ?? "unknown", cuda: header.cuda === true, files: reports, ok: reports.length === files.length && reports.every((r) => r.ok) };
}
