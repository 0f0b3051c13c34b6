import { ConfigError } from "@transllm/core";
import { stringify } from "yaml";
import { CLO_OBJECTIVE, type LoraSettings, type StageHyperparameters, TRANSLLM_LORA } from "./paper-settings.js";

/** One section of a YAML file: a comment saying where its values come from, and the keys. */
export interface YamlSection {
	title: string;
	keys: Record<string, unknown>;
}

/** A LLaMA-Factory YAML: its sections (for the comments) and the flat config LLaMA-Factory parses. */
export interface LlamaFactoryConfig {
	sections: YamlSection[];
	config: Record<string, unknown>;
}

/** Renders sections as LLaMA-Factory's own example YAMLs look: `### title` then the keys. */
export function renderYaml(sections: readonly YamlSection[], header?: string): string {
	const body = sections.map(({ title, keys }) => `### ${title}\n${stringify(keys, { lineWidth: 0 })}`).join("\n");
	return `${header ? `${header.split("\n").map((line) => `# ${line}`).join("\n")}\n\n` : ""}${body}`;
}

function config(sections: YamlSection[]): LlamaFactoryConfig {
	const flat: Record<string, unknown> = {};
	for (const { keys } of sections) {
		for (const [key, value] of Object.entries(keys)) {
			if (key in flat) throw new Error(`duplicate key ${key}`);
			flat[key] = value;
		}
	}
	return { sections, config: flat };
}

/** What every training stage shares: the model, the LLaMA-Factory template, the data registry, the output. */
export interface LlamaFactoryStageParams {
	/** The resized checkpoint (`transllm tokenizer resize-embeddings`), the same for every stage and the merge. */
	model: string;
	/** LLaMA-Factory template name of the chat model (llama2, llama3, mistral, qwen, …). */
	template: string;
	/** Directory of dataset_info.json. */
	datasetDir: string;
	dataset: readonly string[];
	evalDataset?: readonly string[];
	outputDir: string;
	/** The previous stage's adapter, trained further (TransLLM merges only after the last stage, Sec. 2.2.3). */
	adapter?: string;
	/** DeepSpeed config JSON (ZeRO-2, App. A.2); omitted for single-device runs. */
	deepspeed?: string;
	hyperparameters: StageHyperparameters;
	lora?: LoraSettings;
	/** System prompt of the chat template for SFT stages (`default_system`). */
	systemPrompt?: string;
	/** How the warm-up ratio is written: see WarmupKey (default `ratio`). */
	warmupKey?: WarmupKey;
}

/**
 * The key of the warm-up ratio: `ratio` writes `warmup_ratio` (transformers 4.x, LLaMA-Factory's tested line);
 * `steps` writes it as a float `warmup_steps` < 1, which transformers ≥ 5 reads as the ratio and which is the only
 * form once transformers removed `warmup_ratio` (deprecated in 5.0; absent in 5.17 and 5.18, checked with
 * LLaMA-Factory's own parser by `transllm train verify`).
 */
export type WarmupKey = "ratio" | "steps";

const PAPER = "../shared/papers/000_1ce36f3811662daf.txt";

function modelSection(params: LlamaFactoryStageParams): YamlSection {
	return {
		title: "model — the checkpoint already holds every new token's rows, so nothing resizes (see `transllm train check`)",
		keys: {
			model_name_or_path: params.model,
			...(params.adapter ? { adapter_name_or_path: params.adapter } : {}),
			// Never let LLaMA-Factory resize: it pads to a multiple of 64 during training only, and the merge would then
			// load the base at another size (LLaMA-Factory issues #5262, #3125, #7997). No add_special_tokens either:
			// the special tokens are in tokenizer.json already, and adding any would force a resize.
			resize_vocab: false,
		},
	};
}

function loraSection(lora: LoraSettings): YamlSection {
	return {
		title: `method — LoRA r ${lora.rank}, α ${lora.alpha}, dropout ${lora.dropout} on ${lora.target.join(",")}; ${lora.fullyTrained.join(" and ")} trained in full (${PAPER} App. A.1)`,
		keys: {
			finetuning_type: "lora",
			lora_rank: lora.rank,
			lora_alpha: lora.alpha,
			lora_dropout: lora.dropout,
			lora_target: lora.target.join(","),
			...(lora.fullyTrained.length > 0 ? { additional_target: lora.fullyTrained.join(",") } : {}),
		},
	};
}

function trainSection(params: LlamaFactoryStageParams, title: string): YamlSection {
	const hp = params.hyperparameters;
	return {
		title,
		keys: {
			per_device_train_batch_size: hp.per_device_train_batch_size,
			gradient_accumulation_steps: hp.gradient_accumulation_steps,
			learning_rate: hp.learning_rate,
			lr_scheduler_type: hp.lr_scheduler_type,
			...(hp.lr_scheduler_kwargs ? { lr_scheduler_kwargs: hp.lr_scheduler_kwargs } : {}),
			...(params.warmupKey === "steps" ? { warmup_steps: hp.warmup_ratio } : { warmup_ratio: hp.warmup_ratio }),
			weight_decay: hp.weight_decay,
			num_train_epochs: hp.num_train_epochs,
			...(hp.max_steps !== undefined ? { max_steps: hp.max_steps } : {}),
			bf16: hp.bf16,
			...(params.deepspeed ? { deepspeed: params.deepspeed } : {}),
			ddp_timeout: 180000000,
		},
	};
}

function outputSection(params: LlamaFactoryStageParams): YamlSection {
	const hp = params.hyperparameters;
	return { title: "output", keys: { output_dir: params.outputDir, logging_steps: hp.logging_steps, save_steps: hp.save_steps, plot_loss: true, overwrite_output_dir: false, save_only_model: false, report_to: "none" } };
}

function evalSection(params: LlamaFactoryStageParams, title: string): YamlSection {
	const hp = params.hyperparameters;
	if (hp.eval_steps === undefined) throw new ConfigError("a stage with a validation split needs eval_steps");
	return {
		title,
		keys: {
			per_device_eval_batch_size: hp.per_device_train_batch_size,
			eval_strategy: "steps",
			eval_steps: hp.eval_steps,
			save_strategy: "steps",
			load_best_model_at_end: true,
			metric_for_best_model: "eval_loss",
			greater_is_better: false,
		},
	};
}

function dataSection(params: LlamaFactoryStageParams, title: string, extra: Record<string, unknown> = {}): YamlSection {
	return {
		title,
		keys: {
			dataset: params.dataset.join(","),
			...(params.evalDataset && params.evalDataset.length > 0 ? { eval_dataset: params.evalDataset.join(",") } : {}),
			dataset_dir: params.datasetDir,
			template: params.template,
			cutoff_len: params.hyperparameters.cutoff_len,
			...(params.hyperparameters.val_size !== undefined && !params.evalDataset?.length ? { val_size: params.hyperparameters.val_size } : {}),
			overwrite_cache: true,
			preprocessing_num_workers: 16,
			...extra,
		},
	};
}

/** Stage 1, target-language pre-training (Sec. 2.2.1; App. A.2): `stage: pt` on target-language text. */
export function targetPretrainingConfig(params: LlamaFactoryStageParams): LlamaFactoryConfig {
	return config([
		modelSection(params),
		{ title: `stage 1 — target-language pre-training (${PAPER} Sec. 2.2.1)`, keys: { stage: "pt", do_train: true } },
		loraSection(params.lora ?? TRANSLLM_LORA),
		dataSection(params, "dataset — target-language documents; cutoff 512 (App. A.2)"),
		outputSection(params),
		trainSection(params, "train — App. A.2: lr 2e-4, warm-up 0.0005, weight decay 0.01, 128 per GPU × accumulation 1, cosine planned over 100 epochs (num_cycles 0.5/100) of which 1 runs, bf16, ZeRO-2"),
	]);
}

/** Stage 2, translation pre-training (Sec. 2.2.2; App. A.2): `stage: pt`, continuing stage 1's adapter. */
export function translationPretrainingConfig(params: LlamaFactoryStageParams): LlamaFactoryConfig {
	if (!params.adapter) throw new ConfigError("translation pre-training continues from stage 1's adapter: give adapter");
	const sections = [
		modelSection(params),
		{ title: `stage 2 — translation pre-training on cat(s_a, <b>, s_b) interleaved with English lines (${PAPER} Sec. 2.2.2), continuing stage 1's adapter`, keys: { stage: "pt", do_train: true } },
		loraSection(params.lora ?? TRANSLLM_LORA),
		dataSection(params, "dataset — translation pre-training text; 0.1% held out for validation (App. A.2)"),
		outputSection(params),
		trainSection(params, "train — App. A.2: warm-up 0.05, cosine planned over 10 epochs (num_cycles 0.5·3/10), the best model after ~3 epochs; the rest as stage 1"),
		evalSection(params, "eval — App. A.2: validation loss every 400 steps, the best checkpoint kept"),
	];
	return config(sections);
}

/** Stage 3, transfer fine-tuning (Sec. 2.2.3; App. A.2): `stage: sft` on the TCOT / recovery-KD / translation mix. */
export function transferFinetuningConfig(params: LlamaFactoryStageParams): LlamaFactoryConfig {
	if (!params.adapter) throw new ConfigError("transfer fine-tuning continues from stage 2's adapter: give adapter");
	return config([
		modelSection(params),
		{ title: `stage 3 — transfer fine-tuning on recovery-KD, TCOT and translation instances (${PAPER} Sec. 2.2.3), continuing stage 2's adapter`, keys: { stage: "sft", do_train: true } },
		loraSection(params.lora ?? TRANSLLM_LORA),
		dataSection(params, "dataset — the model's chat template; the 2K held-out queries for validation (Sec. 3.1); cutoff 2048 (App. A.2)", params.systemPrompt !== undefined ? { default_system: params.systemPrompt } : {}),
		outputSection(params),
		trainSection(params, "train — App. A.2: lr 1e-4, warm-up 0.01, weight decay 0, 16 per card × accumulation 4, ~1 epoch"),
		...(params.evalDataset?.length ? [evalSection(params, "eval — App. A.2: validation loss every 200 steps on the 2K held-out split, the best checkpoint kept")] : []),
	]);
}

/**
 * The CLO option (`../shared/papers/004_804f498cca6890cb.txt` Eq. 8–12, App. B) as LLaMA-Factory `stage: dpo`. The
 * stock DPO loss adds the NLL to every chosen answer; the exact loss needs `train_clo.py` (@transllm/clo), which
 * replaces the trainer's loss: run `python train_clo.py <this yaml>`, not `llamafactory-cli train`.
 */
export function cloConfig(params: LlamaFactoryStageParams & { beta?: number; lambda?: number }): LlamaFactoryConfig {
	const lambda = params.lambda ?? CLO_OBJECTIVE.lambda;
	if (!(lambda >= 0 && lambda < 1)) throw new ConfigError(`CLO λ must lie in [0, 1), got ${lambda}`);
	if (params.hyperparameters.per_device_train_batch_size % 2 !== 0) throw new ConfigError("CLO needs an even per-device batch size: rows 2k and 2k+1 are one English/target pair");
	const lora = params.lora ?? { ...TRANSLLM_LORA, target: CLO_OBJECTIVE.target, fullyTrained: [] };
	return config([
		modelSection(params),
		{
			title: "CLO — stage dpo with the exact CLO loss (004_… Eq. 8–12): run with `python train_clo.py`, which swaps in the target-only NLL; pref_ftx = λ/(1−λ)",
			keys: { stage: "dpo", do_train: true, pref_beta: params.beta ?? CLO_OBJECTIVE.beta, pref_loss: "sigmoid", pref_ftx: lambda / (1 - lambda) },
		},
		loraSection(lora),
		dataSection(params, "dataset — rows 2k/2k+1 are one English/target pair: keep the order and an even batch size (CLO Sec. 3.2)", { disable_shuffling: true }),
		outputSection(params),
		trainSection(params, "train — CLO App. B: lr 5e-5 down to 1.1e-6, max length 3000, batch 8, 1 epoch"),
		...(params.evalDataset?.length ? [evalSection(params, "eval — CLO App. B: the checkpoint with the lowest validation loss")] : []),
	]);
}

/**
 * PROM (`../shared/papers/003_1fd9d4be5b8f566c.txt` Eq. 3) as LLaMA-Factory: only for λ = 0 (the probe found no
 * English pivot, Sec. 2.3), where the objective is plain SFT on the target rows. LLaMA-Factory has no hook for the
 * second LM head of L_{n,e}; with λ > 0 use the TRL engine.
 */
export function promConfig(params: LlamaFactoryStageParams & { lambda: number }): LlamaFactoryConfig {
	if (params.lambda !== 0) throw new ConfigError(`PROM with λ = ${params.lambda} needs the pivot head of L_{n,e}, which LLaMA-Factory cannot train: use the TRL engine (--engine trl)`);
	return config([
		modelSection(params),
		{ title: "PROM with λ = 0 (003_… Sec. 2.3: no English pivot): L = L_{N,t}, SFT on the target rows", keys: { stage: "sft", do_train: true } },
		loraSection(params.lora ?? TRANSLLM_LORA),
		dataSection(params, "dataset — target.jsonl of `transllm pivot-data`", params.systemPrompt !== undefined ? { default_system: params.systemPrompt } : {}),
		outputSection(params),
		trainSection(params, "train — PROM Sec. 3.1: lr 2e-5, warm-up 3%, 3 epochs, batch 32"),
	]);
}

/**
 * The merge (`llamafactory-cli export`): the base checkpoint at its own size plus the final adapter, whose
 * embed_tokens/lm_head have the same rows because no stage resized.
 */
export function mergeConfig(params: { model: string; adapter: string; template: string; exportDir: string; exportSize?: number }): LlamaFactoryConfig {
	return config([
		{
			title: "model — the same checkpoint the stages trained on, and the last stage's adapter (TransLLM merges only after the last stage, Sec. 2.2.3)",
			keys: { model_name_or_path: params.model, adapter_name_or_path: params.adapter, template: params.template, finetuning_type: "lora", resize_vocab: false },
		},
		{ title: "export — safetensors, CPU", keys: { export_dir: params.exportDir, export_size: params.exportSize ?? 5, export_device: "cpu", export_legacy_format: false } },
	]);
}

/** LLaMA-Factory's DeepSpeed ZeRO-2 config (examples/deepspeed/ds_z2_config.json): TransLLM trains under ZeRO-2 (App. A.2). */
export function deepspeedZero2(): Record<string, unknown> {
	return {
		train_batch_size: "auto",
		train_micro_batch_size_per_gpu: "auto",
		gradient_accumulation_steps: "auto",
		gradient_clipping: "auto",
		zero_allow_untested_optimizer: true,
		fp16: { enabled: "auto", loss_scale: 0, loss_scale_window: 1000, initial_scale_power: 16, hysteresis: 2, min_loss_scale: 1 },
		bf16: { enabled: "auto" },
		zero_optimization: {
			stage: 2,
			allgather_partitions: true,
			allgather_bucket_size: 5e8,
			overlap_comm: false,
			reduce_scatter: true,
			reduce_bucket_size: 5e8,
			contiguous_gradients: true,
			round_robin_gradients: true,
		},
	};
}
