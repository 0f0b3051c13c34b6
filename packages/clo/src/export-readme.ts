import type { CloExportFormat } from "./write-clo-dataset.js";

export interface ExportReadmeParams {
	format: CloExportFormat;
	lang: string;
	pairs: number;
	validationPairs: number;
	droppedPairs: number;
	auditedRecords: number;
	perDeviceBatchSize: number;
	devices: number;
	beta: number;
	lambda: number;
	/** Files written, relative to the export directory, with what each holds. */
	files: ReadonlyArray<[string, string]>;
	/** LLaMA-Factory: the YAML file name. */
	yamlFile?: string;
}

/** The README of an export directory: what is in it, how to train on it, and where stock trainers differ from Eq. 8–12. */
export function exportReadme(params: ExportReadmeParams): string {
	const b = params.perDeviceBatchSize;
	const lines = [
		`# CLO preference data (${params.lang})`,
		"",
		"Written by `transllm clo pairs` for CLO (Cross-Lingual Optimization, `../shared/papers/004_804f498cca6890cb.txt`",
		"Sec. 3.2 and App. A, Eq. 8–12): for the English query the English answer is chosen and the translated answer",
		"rejected; for the translated query the translated answer is chosen and the English one rejected.",
		"",
		`${params.pairs} training pairs (${2 * params.pairs} rows), ${params.validationPairs} validation pairs, ${params.droppedPairs} pairs left out to fill whole steps, ${params.auditedRecords} records failed the checks (audit.jsonl).`,
		"",
		"## Files",
		"",
		...params.files.map(([file, what]) => `- \`${file}\`: ${what}`),
		"",
		"## Batch layout (keep it)",
		"",
		`Row 2k is pair k's English row and row 2k+1 its target row. With a per-device batch size of ${b} rows`,
		`(${b / 2} pairs) on ${params.devices} device(s), every batch holds whole pairs **only if the trainer keeps the file order**:`,
		"",
		"- LLaMA-Factory: `disable_shuffling: true` (set in the YAML) — its DPO trainer then uses a SequentialSampler.",
		"- TRL: the Hugging Face Trainer always shuffles; use `CLODPOTrainer` from `clo_trainer.py`, whose sampler is sequential.",
		"- Keep `per_device_train_batch_size` even and equal to the layout's (or any even divisor of it); no `group_by_length`.",
		"- LLaMA-Factory: no `val_size` (it splits rows at random; the validation pairs are their own dataset) and no odd `max_samples`.",
		"- accelerate hands whole consecutive batches to the devices, so pairs stay whole with any number of devices.",
		"",
		`Check a file with \`transllm clo validate --file <file> --batch-size ${b} --devices ${params.devices}\`.`,
		"",
		"## The NLL term: where stock trainers differ from the paper",
		"",
		"Eq. 9 applies the NLL to the **target-language rows only** (Sec. 7.2, Table 5: adding the English NLL biases the",
		"model towards English). Stock trainers cannot do that: LLaMA-Factory's `pref_ftx` and TRL's `rpo_alpha` / `sft`",
		"loss add the NLL of **every** chosen answer, English rows included. With the exported settings",
		`(pref_beta ${params.beta}, pref_ftx ${params.lambda / (1 - params.lambda)} = λ/(1−λ) for λ = ${params.lambda}), the stock loss is`,
		"(λ·L_SFT + (1−λ)·L_CL + λ·L_SFT,en) / (2(1−λ)), where L_SFT,en is the mean NLL of the English answers — for",
		"λ = 0.5 exactly the paper's loss plus 0.5·L_SFT,en. (A DPO trainer averages −log σ(z) over the 2N rows of a batch,",
		"which is L_CL/2: Eq. 10 adds the two terms of a pair and averages over the N pairs.)",
		"",
		"### Exact recipe",
		"",
		"`clo_trainer.py` holds `clo_loss`, Eq. 8–12 in PyTorch with the NLL on the target rows (odd rows) only, the",
		"per-token mean NLL of each target answer (what `pref_ftx` uses), and λ = pref_ftx / (1 + pref_ftx). Every batch",
		"is checked: rows 2k and 2k+1 must mirror each other (the chosen answer of one is the rejected answer of the other).",
		"",
	];
	if (params.format === "llamafactory") {
		lines.push(
			"```sh",
			`python train_clo.py ${params.yamlFile}                                # exact CLO loss (one GPU)`,
			`torchrun --nproc_per_node ${params.devices} train_clo.py ${params.yamlFile}   # exact CLO loss (${params.devices} device(s))`,
			`llamafactory-cli train ${params.yamlFile}                        # stock DPO + pref_ftx (NLL on every chosen answer)`,
			"```",
			"",
			"`train_clo.py` replaces LLaMA-Factory's `CustomDPOTrainer` with a subclass whose `get_batch_loss_metrics` computes",
			"`clo_loss`; everything else (template, LoRA on q/k/v/o, scheduler, data loading) is LLaMA-Factory's own.",
		);
	} else {
		lines.push(
			"```python",
			"from datasets import load_dataset",
			"from peft import LoraConfig",
			"from transformers import AutoModelForCausalLM, AutoTokenizer",
			"from trl import DPOConfig",
			"from clo_trainer import CLODPOTrainer   # DPOTrainer + sequential sampler + Eq. 8-12",
			"",
			'model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B-Instruct", torch_dtype="bfloat16")',
			'tokenizer = AutoTokenizer.from_pretrained("meta-llama/Meta-Llama-3-8B-Instruct")',
			'train = load_dataset("json", data_files="trl_conversational.jsonl", split="train")',
			`args = DPOConfig(output_dir="clo-${params.lang}", beta=${params.beta}, per_device_train_batch_size=${b},`,
			"                 learning_rate=5e-5, lr_scheduler_type=\"cosine_with_min_lr\", lr_scheduler_kwargs={\"min_lr\": 1.1e-6},",
			"                 num_train_epochs=1, max_length=3000)",
			"peft_config = LoraConfig(r=64, lora_alpha=128, lora_dropout=0.05, target_modules=[\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\"], task_type=\"CAUSAL_LM\")",
			`CLODPOTrainer(model=model, args=args, clo_lambda=${params.lambda}, train_dataset=train, processing_class=tokenizer, peft_config=peft_config).train()`,
			"```",
			"",
			"`CLODPOTrainer` replaces `_compute_loss`, the method TRL ≥ 1.0's `DPOTrainer.compute_loss` calls, with Eq. 8–12",
			"(λ = `clo_lambda`); `@transllm/train` runs it from its settings (`transllm train plan --clo …`). A stock `DPOTrainer`",
			"with the `sft` loss gives the NLL on every chosen answer and shuffles rows, which breaks the pairs.",
		);
	}
	return `${lines.join("\n")}\n`;
}
