import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pythonRef } from "@transllm/python-ref";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyLlamaFactoryPlan, writeTrainingPlan } from "../src/index.js";
import type { WarmupKey } from "../src/index.js";
import { buildDemoTcot, buildExtendedFixture, DEMO_DATA, writeDemoCloPairs } from "./e2e-fixture.js";

// `transllm train verify`: the plan's YAMLs through LLaMA-Factory's own parser. Needs a Python that imports
// llamafactory (not on pip's local index here: runs where a user or developer has it, e.g. PYTHONPATH=<LLaMA-Factory>/src).
const base = pythonRef(["yaml", "torch", "transformers"]);
const { ref } = base.ref ? pythonRef(["llamafactory", "yaml", "torch", "transformers"]) : base;
if (!ref) console.warn(`train verify test skipped: ${base.ref ? `LLaMA-Factory is not importable by ${base.ref.python} (not on pip's local index; e.g. PYTHONPATH=<LLaMA-Factory>/src)` : base.reason}`);

let dir: string;
let plans: Record<WarmupKey, string>;
/** The key this transformers takes: `warmup_ratio` until transformers removed it (5.x), then a float warmup_steps. */
let takes: WarmupKey;

beforeAll(async () => {
	if (!ref) return;
	dir = await mkdtemp(join(tmpdir(), "transllm-train-verify-"));
	const fixture = await buildExtendedFixture(dir);
	const tcot = await buildDemoTcot(dir);
	const pairs = await writeDemoCloPairs(dir);
	plans = { ratio: join(dir, "plan-ratio"), steps: join(dir, "plan-steps") };
	for (const warmupKey of ["ratio", "steps"] as const) {
		await writeTrainingPlan({ model: fixture.model, out: plans[warmupKey], lang: "th", template: "llama2", targetText: [join(DEMO_DATA, "corpus.th.jsonl")], translationText: [tcot.pretraining as string], transferTrain: [tcot.train as string], transferValidation: [tcot.validation as string], clo: { train: pairs }, engines: ["llamafactory"], deepspeed: false, warmupKey });
	}
	const fields = ref.run(["-c", "import dataclasses, transformers; print('warmup_ratio' in {f.name for f in dataclasses.fields(transformers.TrainingArguments)})"]).stdout.trim();
	takes = fields === "True" ? "ratio" : "steps";
}, 180_000);

afterAll(async () => {
	if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!ref)("train verify: LLaMA-Factory's own parser on the plan", () => {
	it("accepts every YAML of the plan written for this transformers, with the paper's settings as LLaMA-Factory reads them", async () => {
		const report = await verifyLlamaFactoryPlan({ plan: plans[takes], python: ref?.python });
		expect(report.files.map((f) => [f.file.split("/").pop(), f.ok, f.error ?? ""])).toEqual(
			["1_target_pretraining.yaml", "2_translation_pretraining.yaml", "3_transfer_finetuning.yaml", "4_merge.yaml", "clo.yaml", "clo_merge.yaml"].map((name) => [name, true, ""]),
		);
		expect(report.ok).toBe(true);
		const [s1, s2, s3, , clo] = report.files;
		expect(s1).toMatchObject({ command: "train", stage: "pt", lora_rank: 64, lora_alpha: 128, learning_rate: 2e-4, warmup: 0.0005, cutoff_len: 512 });
		expect(s2).toMatchObject({ stage: "pt", learning_rate: 2e-4, warmup: 0.05 });
		expect(s3).toMatchObject({ stage: "sft", learning_rate: 1e-4, warmup: 0.01, cutoff_len: 2048 });
		expect(clo).toMatchObject({ stage: "dpo", cutoff_len: 3000 });
	}, 300_000);

	it("rejects the other warm-up key and the renamed new_special_tokens, as llamafactory-cli would", async () => {
		const other = await verifyLlamaFactoryPlan({ plan: plans[takes === "ratio" ? "steps" : "ratio"], python: ref?.python });
		expect(other.ok).toBe(false);
		const old = join(dir, "plan-old-key");
		await cp(plans[takes], old, { recursive: true });
		const stage1 = join(old, "llamafactory", "1_target_pretraining.yaml");
		await writeFile(stage1, `${await readFile(stage1, "utf8")}new_special_tokens: <EN>,<RESPONSE>,<TH>\n`);
		const report = await verifyLlamaFactoryPlan({ plan: old, python: ref?.python });
		expect(report.files[0]).toMatchObject({ ok: false });
		expect(report.files[0]?.error).toContain("new_special_tokens");
		expect(report.files.slice(1).every((f) => f.ok)).toBe(true);
	}, 300_000);
});
