import { stringify } from "yaml";
import type { CloRow } from "./clo-pair.js";

/** LLaMA-Factory's pairwise (ranking) alpaca row. */
export interface LlamaFactoryPairwiseRow {
	instruction: string;
	input: string;
	chosen: string;
	rejected: string;
}

/** One CLO row as a LLaMA-Factory pairwise row. */
export function toLlamaFactoryPairwise(row: CloRow): LlamaFactoryPairwiseRow {
	return { instruction: row.prompt, input: "", chosen: row.chosen, rejected: row.rejected };
}

/** The `dataset_info.json` entry of a pairwise dataset: `ranking: true` makes LLaMA-Factory read chosen/rejected. */
export function llamaFactoryDatasetEntry(fileName: string): Record<string, unknown> {
	return {
		file_name: fileName,
		ranking: true,
		columns: { prompt: "instruction", query: "input", chosen: "chosen", rejected: "rejected" },
	};
}

export interface LlamaFactoryDpoConfigParams {
	/** Base model: a hub id or a local directory. */
	model: string;
	/** LLaMA-Factory chat template name (llama2, llama3, mistral, qwen, gemma …). */
	template: string;
	/** Dataset name in dataset_info.json. */
	dataset: string;
	/** Validation dataset name, when pairs were held out. */
	evalDataset?: string;
	/** Directory holding dataset_info.json. */
	datasetDir: string;
	outputDir: string;
	/** Rows per device per step; even (batch layout). */
	perDeviceBatchSize: number;
	/** β (App. B: 0.1). */
	beta: number;
	/** λ of Eq. 8 (App. B: 0.5); `pref_ftx` = λ / (1 − λ). */
	lambda: number;
	/** LoRA target modules: the attention projections (Sec. 3.2: only attention layers are trained). */
	loraTarget: readonly string[];
	/** Optimizer steps between evaluations, with a validation set. */
	evalSteps?: number;
}

/**
 * The `pref_ftx` that makes LLaMA-Factory's DPO loss equal λ·L_SFT + (1−λ)·L_CL up to one constant factor:
 * it averages −log σ(z) + pref_ftx·NLL over the 2N rows of a batch, i.e. L_CL/2 + pref_ftx·(NLL sum)/2N, and
 * Eq. 8 is proportional to L_CL + λ/(1−λ)·L_SFT. (Its NLL also covers the English rows: see the export README.)
 */
export function prefFtxFor(lambda: number): number {
	return lambda / (1 - lambda);
}

/**
 * The training YAML for LLaMA-Factory stage `dpo` with CLO's settings: β = 0.1, λ = 0.5 → pref_ftx = 1, LoRA
 * on the attention projections only, learning rate 5e-5 down to 1.1e-6, cutoff 3000, one epoch (App. B), and
 * `disable_shuffling: true` so that the pair layout of the file reaches every batch intact.
 */
export function llamaFactoryDpoConfig(params: LlamaFactoryDpoConfigParams): string {
	const sections: Array<[string, Record<string, unknown>]> = [
		["model", { model_name_or_path: params.model }],
		[
			"method — CLO (../shared/papers/004_804f498cca6890cb.txt Eq. 8–12, App. B)",
			{
				stage: "dpo",
				do_train: true,
				finetuning_type: "lora",
				// CLO names no rank (App. B); TransLLM's LoRA (000_… App. A.1: r 64, α 128, dropout 0.05) instead of
				// LLaMA-Factory's default r 8, so the CLO option trains at the same capacity as the TransLLM stages.
				lora_rank: 64,
				lora_alpha: 128,
				lora_dropout: 0.05,
				lora_target: params.loraTarget.join(","),
				pref_beta: params.beta,
				pref_loss: "sigmoid",
				pref_ftx: prefFtxFor(params.lambda),
			},
		],
		[
			"dataset — rows 2k/2k+1 are one English/target pair: keep the order (disable_shuffling) and an even batch size",
			{
				dataset: params.dataset,
				dataset_dir: params.datasetDir,
				template: params.template,
				cutoff_len: 3000,
				overwrite_cache: true,
				disable_shuffling: true,
				...(params.evalDataset ? { eval_dataset: params.evalDataset } : {}),
			},
		],
		["output", { output_dir: params.outputDir, logging_steps: 10, save_steps: params.evalSteps ?? 500, plot_loss: true }],
		[
			"train",
			{
				per_device_train_batch_size: params.perDeviceBatchSize,
				gradient_accumulation_steps: 1,
				learning_rate: 5.0e-5,
				lr_scheduler_type: "cosine_with_min_lr",
				lr_scheduler_kwargs: { min_lr: 1.1e-6 },
				num_train_epochs: 1.0,
				bf16: true,
			},
		],
	];
	if (params.evalDataset) {
		sections.push([
			"eval — App. B: the checkpoint with the lowest validation loss is used",
			{
				per_device_eval_batch_size: params.perDeviceBatchSize,
				eval_strategy: "steps",
				eval_steps: params.evalSteps ?? 500,
				load_best_model_at_end: true,
				metric_for_best_model: "eval_loss",
				greater_is_better: false,
			},
		]);
	}
	return sections.map(([title, body]) => `### ${title}\n${stringify(body)}`).join("\n");
}
