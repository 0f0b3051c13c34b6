/** The validated `transllm.yaml`, defaults filled in and every path made absolute (see config-schema.ts). */
export interface LanguageConfig {
	corpus: string[];
	corpus_format: "auto" | "jsonl" | "text" | "parquet";
	text_field: string;
	word_lists: string[];
	heldout?: string;
	parallel: string[];
	parallel_format: "jsonl" | "tsv" | "moses" | "parquet";
	english: string[];
	translated: string[];
	lexicon?: string;
	questions: string[];
}

export interface SlurmConfig {
	partition?: string;
	time?: string;
	cpus_per_task: number;
	mem?: string;
	sbatch_lines: string[];
	poll_seconds: number;
}

export interface PipelineConfig {
	version: 1;
	/** The config file itself. */
	file: string;
	workdir: string;
	seed: number;
	languages: Record<string, LanguageConfig>;
	base_model: { model: string; name?: string; tokenizer?: string; checkpoint?: string };
	executor: { type: "local" | "slurm"; workers: number; world_size: number; slurm?: SlurmConfig };
	clean: {
		min_chars?: number;
		max_chars?: number;
		min_script_ratio: number;
		language_id: boolean;
		min_lang_confidence: number;
		repetition: boolean;
		dedup: boolean;
		dedup_threshold: number;
		num_perm: number;
		ngram: number;
	};
	fertility: { enabled: boolean; k: number[]; patch_pretokenizer: boolean };
	extend: { enabled: boolean; new_tokens: number; min_frequency: number; patch_pretokenizer: boolean; init: "normal" | "mean" | "eeve" };
	pretraining: { enabled: boolean; sample?: number; english_sample?: number; max_length_ratio: number; language_check: boolean };
	augment: { enabled: boolean; dictionaries: { path: string; source_lang: string; target_lang: string }[]; rate: number; hops: 1 | 2; directions: "both" | "forward"; lowercase: boolean; augment_below?: number };
	kd?: {
		queries: string;
		limit?: number;
		max_tokens: number;
		generation: { backend: "local" | "endpoint"; endpoint?: string; model_name?: string; api_key_env?: string; concurrency: number; batch_size: number };
		translation: { backend: "google" | "endpoint" | "local"; endpoint?: string; model_name?: string; api_key_env?: string; max_tokens: number; concurrency: number; exclude_flags: string[] };
	};
	tcot: { format: "llamafactory" | "trl"; val_size: number; dataset_name: string };
	probe: { enabled: boolean; shots: number; max_examples?: number };
	training: { enabled: boolean; engine: "llamafactory" | "trl"; checkpoint?: string; template: string; python: string; max_steps?: number; batch_size?: number; cutoff_len?: number; deepspeed: boolean };
	eval: { enabled: boolean; model?: string; max_tokens: number; forgetting: boolean };
	export: { enabled: boolean; checkpoint?: string; precision: "fp32" | "fp16" | "int8" | "int4"; block_size: number };
	clo: { enabled: boolean; format: "llamafactory" | "trl"; batch_size: number; validation_pairs: number };
}
