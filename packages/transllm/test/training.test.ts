// The training hand-off without the engine: training on, the TRL engine's Python not on this machine (a path that
// does not exist), so `run` writes the plan (@transllm/train), stops the first training stage in state `waiting for
// training` with the exact command, `status` and the report say so, and the next run picks the checkpoint up once
// that command has run — here it is run for real with the reference Python's TRL (one step). The engine-present path
// (every stage launched and awaited, then export and eval) is the quickstart's: tests/quickstart.test.ts.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pythonRef } from "@transllm/python-ref";
import { buildLlamaFixture } from "@transllm/runtime";
import { beforeAll, describe, expect, it } from "vitest";
import { dataPipeline, transllm } from "./pipeline-fixture.js";

const ref = pythonRef(["torch", "transformers", "peft", "trl"]);
const llamaFactoryHere = spawnSync("llamafactory-cli", ["version"], { stdio: "ignore" }).status === 0;
if (llamaFactoryHere) console.warn("skipping the LLaMA-Factory waiting test: llamafactory-cli is on this machine's PATH");

describe("training hand-off without the engine", () => {
	const dir = mkdtempSync(join(tmpdir(), "transllm-train-"));
	let config: string;

	beforeAll(async () => {
		await buildLlamaFixture({ dir: join(dir, "model"), layers: 1, hidden: 32, heads: 2, kvHeads: 1, intermediate: 64, seed: "hand-off" });
		config = dataPipeline(dir);
		writeFileSync(
			config,
			readFileSync(config, "utf8")
				.replace("  model: model\n", "  model: model\n  checkpoint: model\n")
				.replace("val_size: 4", "val_size: 10")
				.concat("extend:\n  enabled: true\n  new_tokens: 60\ntraining:\n  enabled: true\n  engine: trl\n  python: /nonexistent/python3\n  max_steps: 1\n  batch_size: 2\n  cutoff_len: 64\n  deepspeed: false\n"),
		);
	}, 60_000);

	it("waits for training with the exact command, then picks the checkpoint up", async () => {
		const first = await transllm(["run", config]);
		expect(first.code, first.stdout + first.stderr).toBe(0);
		expect(first.stdout).toMatch(/^✓ train-plan /m);
		expect(first.stdout).toMatch(/^⏸ train-target: waiting for training — \/nonexistent\/python3 with torch, transformers, peft, trl is not on this machine/m);
		expect(first.stdout).toMatch(/^- train-translation: after training \(train-target waiting\)$/m);
		expect(first.stdout).not.toContain("every stage is up to date");
		const command = /^ {4}(\/nonexistent\/python3 \S+\/transllm_train\.py --settings \S+ target_pretraining)$/m.exec(first.stdout)?.[1];
		expect(command, first.stdout).toBeDefined();
		expect(existsSync(join(dir, "work", "train-plan", "plan.json"))).toBe(true);
		// Nothing is recorded for a stage that did not train: no pretending.
		const lock = JSON.parse(readFileSync(join(dir, "work", "transllm.lock.json"), "utf8")) as { stages: Record<string, { figures: Record<string, unknown> }> };
		expect(lock.stages["train-target"]).toBeUndefined();
		const status = await transllm(["status", config]);
		expect(status.stdout).toMatch(/^train-target\s+waiting for training/m);
		expect(status.stdout).toMatch(/^train-merge\s+after training \(train-transfer waiting\)/m);
		expect(readFileSync(join(dir, "work", "report.html"), "utf8")).toContain("waiting for training");

		const again = await transllm(["run", config]);
		expect(again.stdout).toMatch(/^= train-plan: up to date$/m);
		expect(again.stdout).toMatch(/^⏸ train-target: waiting for training/m);

		if (!ref.ref) {
			console.warn(`skipping the pick-up half (running the printed command needs TRL): ${ref.reason}`);
			return;
		}
		// The user runs the printed command with their Python; the next run picks the adapter up.
		const [, ...args] = (command as string).split(" ");
		execFileSync(ref.ref.python, args, { stdio: "ignore", timeout: 240_000, env: { ...process.env, TOKENIZERS_PARALLELISM: "false" } });
		const third = await transllm(["run", config]);
		expect(third.code, third.stdout + third.stderr).toBe(0);
		expect(third.stdout).toMatch(/^✓ train-target in .* steps 1, lossFirst \d/m);
		expect(third.stdout).toMatch(/^⏸ train-translation: waiting for training/m);
		const picked = JSON.parse(readFileSync(join(dir, "work", "transllm.lock.json"), "utf8")) as { stages: Record<string, { outputs: Record<string, string> }> };
		expect(Object.keys(picked.stages["train-target"]?.outputs ?? {})).toContain("train-plan/checkpoints/trl/1_target_pretraining/adapter_model.safetensors");
		expect(existsSync(join(dir, "work", "train-target", ".waiting-for-training.json"))).toBe(false);
		expect((await transllm(["status", config])).stdout).toMatch(/^train-target\s+up to date/m);
	}, 300_000);

	it.skipIf(llamaFactoryHere)("with LLaMA-Factory as the engine, waits with the llamafactory-cli command of the plan's YAML", async () => {
		writeFileSync(config, readFileSync(config, "utf8").replace("  engine: trl\n", "  engine: llamafactory\n"));
		const run = await transllm(["run", config]);
		expect(run.code, run.stdout + run.stderr).toBe(0);
		expect(run.stdout).toMatch(/^▶ train-plan: .*\(settings changed\)$/m);
		expect(run.stdout).toMatch(/^⏸ train-target: waiting for training — llamafactory-cli is not on this machine\. Run:$/m);
		const yaml = /^ {4}llamafactory-cli train (\S+\/llamafactory\/1_target_pretraining\.yaml)$/m.exec(run.stdout)?.[1];
		expect(yaml, run.stdout).toBeDefined();
		expect(readFileSync(yaml as string, "utf8")).toMatch(/^stage: pt$/m);
	}, 120_000);
});
