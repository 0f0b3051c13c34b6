// The training settings of TransLLM (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 3.1, App. A.1–A.2), of CLO
// (`004_804f498cca6890cb.txt` App. B) and of PROM (`003_1fd9d4be5b8f566c.txt` Sec. 3.1). One definition, used by both
// engines (LLaMA-Factory YAML and the TRL script's settings.json).

/** LoRA of every TransLLM stage (App. A.1): r 64, α 128, dropout 0.05 on the attention and MLP projections. */
export interface LoraSettings {
	rank: number;
	alpha: number;
	dropout: number;
	/** Linear layers that get LoRA matrices. */
	target: string[];
	/** Trained in full and saved with the adapter (LLaMA-Factory `additional_target`, PEFT `modules_to_save`). */
	fullyTrained: string[];
}

export const TRANSLLM_LORA: LoraSettings = {
	rank: 64,
	alpha: 128,
	dropout: 0.05,
	// App. A.1: "q proj, v proj, k proj, o proj, gate proj, down proj, and up proj"
	target: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
	// App. A.1: "Besides, the embed tokens and lm head are also trainable."
	fullyTrained: ["embed_tokens", "lm_head"],
};

/** The hyper-parameters of one training stage, named as Hugging Face TrainingArguments name them. */
export interface StageHyperparameters {
	learning_rate: number;
	warmup_ratio: number;
	weight_decay: number;
	num_train_epochs: number;
	lr_scheduler_type: string;
	/** Extra scheduler arguments (cosine `num_cycles` for a decay planned over more epochs than are run). */
	lr_scheduler_kwargs?: Record<string, number>;
	cutoff_len: number;
	per_device_train_batch_size: number;
	gradient_accumulation_steps: number;
	bf16: boolean;
	/** Optimizer steps between evaluations on the validation split (stages with one). */
	eval_steps?: number;
	/** Fraction of the training file held out for validation when no validation file is given. */
	val_size?: number;
	/** Stop after this many optimizer steps (tests and smoke runs; unset in the paper's settings). */
	max_steps?: number;
	logging_steps: number;
	save_steps: number;
}

/** TransLLM's three stages (Sec. 2.2) and the two options (CLO, PROM). */
export type StageName = "target_pretraining" | "translation_pretraining" | "transfer_finetuning" | "clo" | "prom";

export const TRANSLLM_STAGES = ["target_pretraining", "translation_pretraining", "transfer_finetuning"] as const satisfies readonly StageName[];

/**
 * App. A.2 "Target Language Pre-Training": warm-up ratio 0.0005, max length 512, weight decay 0.01, 128 sequences per
 * GPU with gradient accumulation 1, peak lr 2e-4 with cosine decay planned for 100 epochs of which 1 is run, bf16,
 * DeepSpeed ZeRO-2. A cosine planned over 100 epochs and stopped after 1 is HF's cosine over the 1 epoch with
 * num_cycles 0.5/100.
 */
export const TARGET_PRETRAINING: StageHyperparameters = {
	learning_rate: 2e-4,
	warmup_ratio: 0.0005,
	weight_decay: 0.01,
	num_train_epochs: 1,
	lr_scheduler_type: "cosine",
	lr_scheduler_kwargs: { num_cycles: 0.5 / 100 },
	cutoff_len: 512,
	per_device_train_batch_size: 128,
	gradient_accumulation_steps: 1,
	bf16: true,
	logging_steps: 10,
	save_steps: 1000,
};

/**
 * App. A.2 "Translation Pre-Training": warm-up 0.05, cosine planned for 10 epochs, 0.1% of the examples held out and
 * evaluated every 400 steps, the best model after about 3 epochs; the rest as stage 1. We run the 3 epochs (cosine
 * num_cycles 0.5·3/10) and keep the checkpoint with the lowest validation loss.
 */
export const TRANSLATION_PRETRAINING: StageHyperparameters = {
	...TARGET_PRETRAINING,
	warmup_ratio: 0.05,
	num_train_epochs: 3,
	lr_scheduler_kwargs: { num_cycles: (0.5 * 3) / 10 },
	val_size: 0.001,
	eval_steps: 400,
	save_steps: 400,
};

/**
 * App. A.2 "Transfer Fine-Tuning": max length 2048, padding with <PAD>, peak lr 1e-4, warm-up 0.01, 16 per card with
 * gradient accumulation 4, weight decay 0, the 2K held-out examples evaluated every 200 steps, the best model after
 * about 1 epoch; the rest (cosine, bf16, ZeRO-2) as stage 1.
 */
export const TRANSFER_FINETUNING: StageHyperparameters = {
	learning_rate: 1e-4,
	warmup_ratio: 0.01,
	weight_decay: 0,
	num_train_epochs: 1,
	lr_scheduler_type: "cosine",
	cutoff_len: 2048,
	per_device_train_batch_size: 16,
	gradient_accumulation_steps: 4,
	bf16: true,
	eval_steps: 200,
	logging_steps: 10,
	save_steps: 200,
};

/** CLO App. B: lr 5e-5 decaying to 1.1e-6, max length 3000, batch 8 (rows: 4 pairs), 1 epoch, best validation loss. */
export const CLO_STAGE: StageHyperparameters = {
	learning_rate: 5e-5,
	warmup_ratio: 0,
	weight_decay: 0,
	num_train_epochs: 1,
	lr_scheduler_type: "cosine_with_min_lr",
	lr_scheduler_kwargs: { min_lr: 1.1e-6 },
	cutoff_len: 3000,
	per_device_train_batch_size: 8,
	gradient_accumulation_steps: 1,
	bf16: true,
	eval_steps: 100,
	logging_steps: 10,
	save_steps: 100,
};

/** CLO App. B: β 0.1, λ 0.5; Sec. 3.2: attention layers only. */
export const CLO_OBJECTIVE = { beta: 0.1, lambda: 0.5, target: ["q_proj", "k_proj", "v_proj", "o_proj"] };

/** PROM Sec. 3.1: lr 2e-5, 3% warm-up, 3 epochs, batch 32, sequence length 2048 (Alpaca's recipe). */
export const PROM_STAGE: StageHyperparameters = {
	learning_rate: 2e-5,
	warmup_ratio: 0.03,
	weight_decay: 0,
	num_train_epochs: 3,
	lr_scheduler_type: "cosine",
	cutoff_len: 2048,
	per_device_train_batch_size: 32,
	gradient_accumulation_steps: 1,
	bf16: true,
	logging_steps: 10,
	save_steps: 500,
};

export const STAGE_DEFAULTS: Record<StageName, StageHyperparameters> = {
	target_pretraining: TARGET_PRETRAINING,
	translation_pretraining: TRANSLATION_PRETRAINING,
	transfer_finetuning: TRANSFER_FINETUNING,
	clo: CLO_STAGE,
	prom: PROM_STAGE,
};
