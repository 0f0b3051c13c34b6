import { spawn, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { readJsonFile } from "@transllm/core";
import { writeTrainingPlan } from "@transllm/train";
import type { StageHyperparameters, TrainingPlan } from "@transllm/train";
import type { PipelineConfig } from "../config.js";
import { listFiles } from "../hashing.js";
import type { StageRecord } from "../lock-file.js";
import { WaitingForTraining, languagesOf, missingPaths, upstreamOutputs } from "../stage.js";
import type { Stage, StageContext } from "../stage.js";

/** The checkpoint training starts from: training.checkpoint, else the extend stage's resized one, else base_model.checkpoint. */
function startCheckpoint(config: PipelineConfig): string | undefined {
	if (config.training.checkpoint) return config.training.checkpoint;
	if (config.extend.enabled && config.base_model.checkpoint) return join(config.workdir, "extend");
	return config.base_model.checkpoint;
}

/** The start checkpoint as hashed inputs: the extend stage's recorded outputs, or the given folder. */
function startInputs(config: PipelineConfig, upstream: Record<string, StageRecord>): string[] {
	const start = startCheckpoint(config);
	if (start === undefined) return [];
	return start === join(config.workdir, "extend") ? upstreamOutputs(config.workdir, upstream, "extend") : [start];
}

/** Smoke-run changes to the paper's hyper-parameters (App. A.2), the same for every stage. */
function overrides(config: PipelineConfig): Partial<StageHyperparameters> | undefined {
	const t = config.training;
	const changes: Partial<StageHyperparameters> = {
		...(t.max_steps !== undefined ? { max_steps: t.max_steps, logging_steps: 1 } : {}),
		...(t.batch_size !== undefined ? { per_device_train_batch_size: t.batch_size, gradient_accumulation_steps: 1 } : {}),
		...(t.cutoff_len !== undefined ? { cutoff_len: t.cutoff_len } : {}),
	};
	return Object.keys(changes).length > 0 ? changes : undefined;
}

/**
 * train-plan: TransLLM's training hand-off files for the configured engine (@transllm/train's `writeTrainingPlan`):
 * per stage of the paper a LLaMA-Factory YAML or the TRL settings, the merge, dataset_info.json and the run script,
 * from this run's cleaned corpus, translation pre-training text, TCOT data, CLO pairs and PROM data. The checkpoints
 * the training stages write go under its folder (`checkpoints/`, `merged/`): a new plan starts training afresh.
 */
export const trainPlanStage: Stage = {
	name: "train-plan",
	title: "training hand-off: per-stage LLaMA-Factory / TRL files",
	paper: "TransLLM Sec. 2.2, App. A.1–A.2",
	packages: ["@transllm/train"],
	after: ["clean", "extend", "tcot", "probe", "clo"],
	disabled: (config) =>
		!config.training.enabled
			? "training.enabled is false"
			: startCheckpoint(config) === undefined
				? "no checkpoint to train (training.checkpoint or base_model.checkpoint)"
				: languagesOf(config).length > 1
					? "training takes one language per config"
					: undefined,
	// Where the engine's Python lives does not decide the outputs.
	settings: (config) => ({ training: { ...config.training, checkpoint: undefined, python: undefined } }),
	inputs: (config, upstream) => [
		...startInputs(config, upstream),
		...upstreamOutputs(config.workdir, upstream, "clean", (path) => path.includes("/dedup/kept/")),
		...upstreamOutputs(config.workdir, upstream, "tcot"),
		...upstreamOutputs(config.workdir, upstream, "clo"),
		...upstreamOutputs(config.workdir, upstream, "probe"),
	],
	// A checkpoint the extend stage will write is not there before the run: only a given one is checked.
	check: async (config) => {
		const given = config.training.checkpoint ?? (config.extend.enabled ? undefined : config.base_model.checkpoint);
		return given ? missingPaths(["config.json", "tokenizer.json"].map((file) => join(given, file)), "training checkpoint") : [];
	},
	async run(context) {
		const { config, upstream, workdir } = context;
		const lang = languagesOf(config)[0] as string;
		// An empty file (no validation split) is no dataset: LLaMA-Factory and TRL refuse one.
		const tcot = (name: string) => upstreamOutputs(workdir, upstream, "tcot", (path) => path === `tcot/${name}`).filter((path) => statSync(path).size > 0);
		const clo = upstreamOutputs(workdir, upstream, "clo", (path) => path === `clo/${lang}/clo_${lang}.jsonl`)[0];
		const cloValidation = upstreamOutputs(workdir, upstream, "clo", (path) => path === `clo/${lang}/clo_${lang}_val.jsonl`)[0];
		const prom = upstream.probe ? join(workdir, "probe", lang) : undefined;
		const t = config.training;
		const changes = overrides(config);
		const plan = await writeTrainingPlan({
			model: startCheckpoint(config) as string,
			out: context.dir,
			lang,
			template: t.template,
			targetText: upstreamOutputs(workdir, upstream, "clean", (path) => path.includes("/dedup/kept/")),
			translationText: tcot("translation_pretraining.jsonl"),
			transferTrain: tcot("train.jsonl"),
			transferValidation: tcot("validation.jsonl"),
			...(clo ? { clo: { train: clo, ...(cloValidation ? { validation: cloValidation } : {}) } } : {}),
			...(prom ? { prom: { dir: prom } } : {}),
			engines: [t.engine],
			deepspeed: t.deepspeed,
			...(changes ? { overrides: { target_pretraining: changes, translation_pretraining: changes, transfer_finetuning: changes, clo: changes, prom: changes } } : {}),
		});
		return {
			outputs: (await listFiles(context.dir)).filter((name) => !name.startsWith(".") && !name.startsWith("checkpoints/") && !name.startsWith("merged/")).map((name) => relative(workdir, join(context.dir, name))),
			figures: { engine: t.engine, stages: plan.stages.map((s) => s.name).join(" "), vocabulary: plan.vocabulary.ok ? "ok" : "mismatch", embeddingRows: plan.vocabulary.embeddingRows, tokenizerSize: plan.vocabulary.tokenizerSize },
		};
	},
};

const TRL_MODULES = ["torch", "transformers", "peft", "trl"];

/** Whether the engine can run here: llamafactory-cli on the PATH, or a Python that has torch, transformers, peft and trl. */
function engineAvailable(config: PipelineConfig): boolean {
	if (config.training.engine === "llamafactory") return spawnSync("llamafactory-cli", ["version"], { stdio: "ignore" }).status === 0;
	// find_spec, not import: answers in a fraction of a second.
	const probe = `import importlib.util,sys;sys.exit(any(importlib.util.find_spec(m) is None for m in ${JSON.stringify(TRL_MODULES)}))`;
	return spawnSync(config.training.python, ["-c", probe], { stdio: "ignore" }).status === 0;
}

/**
 * The files a finished training step leaves last, so that a killed or running one never counts: the trainer saves
 * the adapter, then TRL's script writes log_history.json and LLaMA-Factory trainer_state.json; a merge copies the
 * tokenizer after the weights.
 */
const FINISHED: Record<"trl" | "llamafactory", Record<"train" | "merge", string[]>> = {
	trl: { train: ["adapter_model.safetensors", "log_history.json"], merge: ["config.json", "tokenizer.json"] },
	llamafactory: { train: ["adapter_model.safetensors", "trainer_state.json"], merge: ["config.json", "tokenizer.json"] },
};

async function finished(dir: string, engine: "trl" | "llamafactory", merge: boolean): Promise<boolean> {
	for (const file of FINISHED[engine][merge ? "merge" : "train"]) if (!(await access(join(dir, file)).then(() => true, () => false))) return false;
	return true;
}

/** Key figures of a finished training step from the trainer's log history: steps, loss first → last, last eval loss. */
async function trainingFigures(dir: string, engine: "trl" | "llamafactory"): Promise<Record<string, unknown>> {
	const text = await readFile(join(dir, engine === "trl" ? "log_history.json" : "trainer_state.json"), "utf8").catch(() => undefined);
	if (text === undefined) return {};
	const parsed = JSON.parse(text) as unknown;
	const history = (Array.isArray(parsed) ? parsed : ((parsed as { log_history?: unknown[] }).log_history ?? [])) as Record<string, number>[];
	const losses = history.filter((entry) => typeof entry.loss === "number").map((entry) => entry.loss as number);
	const evals = history.filter((entry) => typeof entry.eval_loss === "number").map((entry) => entry.eval_loss as number);
	const round = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 1e4) / 1e4);
	return {
		steps: Math.max(0, ...history.map((entry) => entry.step ?? 0)),
		...(losses.length > 0 ? { lossFirst: round(losses[0]), lossLast: round(losses.at(-1)) } : {}),
		...(evals.length > 0 ? { evalLoss: round(evals.at(-1)) } : {}),
	};
}

/** Bytes of the merged weights (the figure of a merge). */
async function weightBytes(dir: string): Promise<number> {
	return (await listFiles(dir)).filter((file) => file.endsWith(".safetensors")).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
}

const quote = (part: string): string => (/^[\w./:=@+-]+$/.test(part) ? part : `'${part.replaceAll("'", "'\\''")}'`);

/**
 * One training stage of the paper as a real hand-off: with the engine here, `run` launches it and waits; without
 * it, the stage stops in state `waiting for training` naming the exact command, and the next `run` picks the
 * checkpoint up once it is there. A stage never pretends: no finished checkpoint, no record.
 */
function trainingStage(name: string, step: "target_pretraining" | "translation_pretraining" | "transfer_finetuning" | "merge", title: string, paper: string, after: string): Stage {
	const merge = step === "merge";
	return {
		name,
		title,
		paper,
		packages: ["@transllm/train"],
		after: [after],
		disabled: (config) => trainPlanStage.disabled(config),
		settings: (config) => ({ engine: config.training.engine, step }),
		inputs: (config, upstream) => upstreamOutputs(config.workdir, upstream, after),
		async run(context: StageContext) {
			const { config } = context;
			const plan = await readJsonFile<TrainingPlan>(join(config.workdir, "train-plan", "plan.json"), "training plan");
			const planned = plan.stages.find((s) => s.name === step);
			if (!planned) throw new Error(`the training plan has no ${step} stage`);
			const engine = config.training.engine;
			const output = planned.outputDir[engine];
			const command =
				engine === "trl"
					? [config.training.python, join(plan.out, "trl", "transllm_train.py"), "--settings", plan.settings, step]
					: ["llamafactory-cli", merge ? "export" : "train", planned.files.llamafactory as string];
			if (!(await finished(output, engine, merge))) {
				if (!engineAvailable(config)) {
					const why = engine === "trl" ? `${config.training.python} with ${TRL_MODULES.join(", ")}` : "llamafactory-cli";
					throw new WaitingForTraining(name, [command.map(quote).join(" ")], output, `${why} is not on this machine`);
				}
				context.log.write(`$ ${command.map(quote).join(" ")}\n`);
				const code = await new Promise<number | null>((resolve) => {
					const child = spawn(command[0] as string, command.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1", TOKENIZERS_PARALLELISM: "false" } });
					child.stdout.pipe(context.log, { end: false });
					child.stderr.pipe(context.log, { end: false });
					child.on("error", () => resolve(-1));
					child.on("close", resolve);
				});
				if (code !== 0) throw new Error(`${command.map(quote).join(" ")} exited with ${code}`);
				if (!(await finished(output, engine, merge))) throw new Error(`${command.map(quote).join(" ")} finished without writing ${FINISHED[engine][merge ? "merge" : "train"].join(", ")} in ${output}`);
			}
			return {
				outputs: (await listFiles(output)).filter((file) => !file.startsWith("checkpoint-")).map((file) => relative(config.workdir, join(output, file))),
				figures: { engine, step, ...(merge ? { weightBytes: await weightBytes(output) } : await trainingFigures(output, engine)), output: relative(config.workdir, output) },
			};
		},
	};
}

export const trainTargetStage = trainingStage("train-target", "target_pretraining", "training stage 1: target-language pre-training", "TransLLM Sec. 2.2.1", "train-plan");
export const trainTranslationStage = trainingStage("train-translation", "translation_pretraining", "training stage 2: translation pre-training", "TransLLM Sec. 2.2.2", "train-target");
export const trainTransferStage = trainingStage("train-transfer", "transfer_finetuning", "training stage 3: transfer fine-tuning", "TransLLM Sec. 2.2.3", "train-translation");
export const trainMergeStage = trainingStage("train-merge", "merge", "merge the LoRA adapter into the checkpoint", "TransLLM Sec. 2.2.3", "train-transfer");
