/**
 * The JSON Schema of `transllm.yaml` (draft-07, validated with ajv). It is the single source of the config: `init`
 * writes its defaults, the README's config reference is generated from it, and editors load the copy shipped as
 * `transllm/schema.json`. Every object closes with `additionalProperties: false`: a misspelt key is an error.
 */

const path = { type: "string", minLength: 1 } as const;
const paths = { type: "array", items: path } as const;
const fraction = { type: "number", minimum: 0, maximum: 1 } as const;
const count = { type: "integer", minimum: 1 } as const;

const slurm = {
	type: "object",
	description: "Options of `executor: slurm` (each sharded stage becomes one `sbatch --array` job).",
	additionalProperties: false,
	properties: {
		partition: { type: "string", description: "sbatch --partition" },
		time: { type: "string", description: "sbatch --time per job (e.g. 04:00:00)" },
		cpus_per_task: { type: "integer", minimum: 1, default: 1, description: "sbatch --cpus-per-task" },
		mem: { type: "string", description: "sbatch --mem (e.g. 8G)" },
		sbatch_lines: { type: "array", items: { type: "string" }, default: [], description: "Extra `#SBATCH …` lines, written as given" },
		poll_seconds: { type: "number", minimum: 0.1, default: 2, description: "How often `run` polls squeue while it waits for its jobs" },
	},
} as const;

const language = {
	type: "object",
	description: "One target language: its corpora and files (paths relative to this file).",
	additionalProperties: false,
	required: ["corpus"],
	properties: {
		corpus: { ...paths, minItems: 1, description: "Raw target-language corpus files (.jsonl/.jsonl.gz, .parquet, text): TransLLM Sec. 3.1 (mC4)" },
		corpus_format: { enum: ["auto", "jsonl", "text", "parquet"], default: "auto", description: "Reader of the corpus files" },
		text_field: { type: "string", default: "text", description: "JSONL field / Parquet column of the text" },
		word_lists: { ...paths, default: [], description: "Sensitive-word lists (TransLLM Sec. 3.1: sensitive words filtered)" },
		heldout: { ...path, description: "Held-out text, one line each, for the fertility curve (default: the cleaned corpus itself)" },
		parallel: { ...paths, default: [], description: "English–target pairs for the translation pre-training text (TransLLM Sec. 2.2.2, 3.1)" },
		parallel_format: { enum: ["jsonl", "tsv", "moses", "parquet"], default: "jsonl", description: "Reader of the pairs" },
		english: { ...paths, default: [], description: "English documents interleaved with the pairs (TransLLM Sec. 2.2.2: Pile)" },
		translated: { ...paths, default: [], description: "Translated recovery-KD records made elsewhere ({id, query_en, response_en, query_t, response_t}), used beside the KD translate stage's" },
		lexicon: { ...path, description: "English–target word lexicon (MUSE style) for the PROM probe (PROM Sec. 2.2)" },
		questions: { ...paths, default: [], description: "Evaluation questions in the target language (MT-Bench question.jsonl, AlpacaEval .json, AdvBench .csv or {id, query} JSONL): TransLLM Sec. 3.1" },
	},
} as const;

export const configSchema = {
	$schema: "http://json-schema.org/draft-07/schema#",
	$id: "https://transllm.dev/schema/transllm.schema.json",
	title: "transllm.yaml",
	description: "The TransLLM pipeline of `transllm run`: languages, base model, stages and executor.",
	type: "object",
	additionalProperties: false,
	required: ["languages", "base_model"],
	properties: {
		version: { const: 1, default: 1, description: "Config format version" },
		workdir: { ...path, default: "work", description: "Work directory (relative to this file): one folder per stage, the lock file, logs and the report" },
		seed: { type: "integer", default: 42, description: "Seed of every sampling and shuffle" },
		languages: {
			type: "object",
			description: "Target languages by code (th, ar, pt …), several at once",
			minProperties: 1,
			propertyNames: { pattern: "^[a-z]{2,3}(-[A-Za-z]{4})?$" },
			additionalProperties: language,
		},
		base_model: {
			type: "object",
			description: "The English chat model to transform (TransLLM Sec. 3.1: Llama-2-chat-7B)",
			additionalProperties: false,
			required: ["model"],
			properties: {
				model: { ...path, description: "Model directory as @transllm/runtime loads it (ONNX export + tokenizer files): KD generation, translation and the probe" },
				name: { type: "string", description: "Model name written into KD records (default: the directory name)" },
				tokenizer: { ...path, description: "Tokenizer directory for fertility and extension (default: model)" },
				checkpoint: { ...path, description: "Hugging Face safetensors checkpoint whose embeddings are resized after extension (TransLLM App. A.1)" },
			},
		},
		executor: {
			type: "object",
			description: "Where sharded stages run (datatrove's executors)",
			additionalProperties: false,
			default: {},
			properties: {
				type: { enum: ["local", "slurm"], default: "local", description: "local: a pool of worker processes; slurm: sbatch job arrays" },
				workers: { ...count, default: 2, description: "Ranks running at once (local processes; slurm: the array's %limit)" },
				world_size: { ...count, default: 1, description: "Ranks of each sharded stage (clean: inputs r, r+W, …)" },
				slurm,
			},
		},
		clean: {
			type: "object",
			description: "Stage clean: filters then MinHash dedup (TransLLM Sec. 3.1)",
			additionalProperties: false,
			default: {},
			properties: {
				min_chars: { type: "integer", minimum: 0, description: "Minimum characters of a document" },
				max_chars: { type: "integer", minimum: 0, description: "Maximum characters of a document" },
				min_script_ratio: { ...fraction, default: 0.5, description: "Minimum share of letters in the language's script" },
				language_id: { type: "boolean", default: true, description: "Language-ID filter" },
				min_lang_confidence: { ...fraction, default: 0.05, description: "Minimum language-ID confidence" },
				repetition: { type: "boolean", default: true, description: "Gopher repetition filters (duplicate lines, n-grams)" },
				dedup: { type: "boolean", default: true, description: "MinHash LSH near-duplicate removal (TransLLM Sec. 3.1)" },
				dedup_threshold: { ...fraction, default: 0.8, description: "Dedup: Jaccard threshold" },
				num_perm: { ...count, default: 128, description: "Dedup: MinHash signature length" },
				ngram: { ...count, default: 5, description: "Dedup: shingle length in words" },
			},
		},
		fertility: {
			type: "object",
			description: "Stage fertility: tokens/word vs new tokens K, before choosing K (TransLLM App. A.1; LLaMAX Table 1)",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: true, description: "Run the stage" },
				k: { type: "array", items: count, minItems: 1, default: [1000, 5000, 10000], description: "Numbers of new tokens to measure" },
				patch_pretokenizer: { type: "boolean", default: false, description: "Keep combining marks inside words (Llama-3's pre-tokenizer splits Thai before them)" },
			},
		},
		extend: {
			type: "object",
			description: "Stage extend: vocabulary extension by continued BPE, embedding resize (TransLLM Sec. 3.1: Llama-2 only)",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: false, description: "Run the stage (TransLLM extends Llama-2's vocabulary; LLaMAX finds extension can hurt)" },
				new_tokens: { ...count, default: 40000, description: "New tokens per language" },
				min_frequency: { ...count, default: 2, description: "Minimum pair frequency of a merge" },
				patch_pretokenizer: { type: "boolean", default: false, description: "Keep combining marks inside words" },
				init: { enum: ["normal", "mean", "eeve"], default: "normal", description: "New embedding rows: normal(0, 0.02) (TransLLM App. A.1), sub-token mean, or EEVE" },
			},
		},
		pretraining: {
			type: "object",
			description: "Stage pretraining: translation pre-training text cat(s_a, <b>, s_b) between English lines (TransLLM Sec. 2.2.2)",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: true, description: "Run the stage (needs `parallel` files)" },
				sample: { ...count, description: "Pairs to sample (TransLLM Sec. 3.1: 1,000,000; default all)" },
				english_sample: { ...count, description: "English documents to sample (TransLLM Sec. 3.1: 1,000,000; default all)" },
				max_length_ratio: { type: "number", minimum: 1, default: 3, description: "Maximum length ratio of the sides" },
				language_check: { type: "boolean", default: true, description: "Language check of both sides" },
			},
		},
		augment: {
			type: "object",
			description: "Stage augment: LLaMAX code-switch augmentation of the checked parallel pairs; the pseudo-parallel pairs join the translation pre-training text (LLaMAX Sec. 2.1, Fig. 2, Algorithm 1)",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: false, description: "Run the stage (needs the pretraining stage's pairs and dictionaries)" },
				dictionaries: {
					type: "array",
					default: [],
					description: "Bilingual dictionaries of the multilingual lexicon (MUSE `src tgt` lines or TSV), e.g. MUSE en-th, en-fr …",
					items: {
						type: "object",
						additionalProperties: false,
						required: ["path", "source_lang", "target_lang"],
						properties: {
							path: { ...path, description: "The dictionary file" },
							source_lang: { type: "string", description: "Language of its first column" },
							target_lang: { type: "string", description: "Language of its second column" },
						},
					},
				},
				rate: { type: "number", minimum: 0, maximum: 1, default: 0.3, description: "Probability of replacing a word the lexicon knows (LLaMAX names no rate; mRASP's 0.3)" },
				hops: { enum: [1, 2], default: 1, description: "Lexicon hops (LLaMAX App. F: 1-hop suffices)" },
				directions: { enum: ["both", "forward"], default: "both", description: "Switch s→t and t→s (LLaMAX Algorithm 1) or s→t only" },
				lowercase: { type: "boolean", default: true, description: "Lower-case sentences first, as LLaMAX does" },
				augment_below: { type: "integer", minimum: 0, description: "Augment only language pairs with fewer pairs (LLaMAX Algorithm 1: 25000; default: every pair)" },
			},
		},
		kd: {
			type: "object",
			description: "Stages kd-generate and kd-translate: recovery KD (TransLLM Sec. 2.2.3)",
			additionalProperties: false,
			required: ["queries"],
			properties: {
				queries: { ...path, description: "English queries JSONL (TransLLM Sec. 3.1: 50K Alpaca)" },
				limit: { ...count, description: "Use only the first n queries" },
				max_tokens: { ...count, default: 1024, description: "Most new tokens per answer (greedy decoding, TransLLM App. A.1)" },
				generation: {
					type: "object",
					description: "Who answers the queries: the base model (local) or an OpenAI-compatible endpoint serving it (vLLM)",
					additionalProperties: false,
					default: {},
					properties: {
						backend: { enum: ["local", "endpoint"], default: "local", description: "local: base_model.model with @transllm/runtime; endpoint: an OpenAI-compatible server" },
						endpoint: { type: "string", format: "uri", description: "API base URL, e.g. http://127.0.0.1:8000/v1" },
						model_name: { type: "string", description: "Model name at the endpoint" },
						api_key_env: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$", description: "Name of the environment variable holding the API key (never the key itself)" },
						concurrency: { ...count, default: 8, description: "Requests in flight (endpoint)" },
						batch_size: { ...count, default: 8, description: "Queries per forward pass (local)" },
					},
				},
				translation: {
					type: "object",
					description: "Who translates the KD pairs (TransLLM Sec. 2.2.3: Google Translate)",
					additionalProperties: false,
					default: {},
					properties: {
						backend: { enum: ["google", "endpoint", "local"], default: "local", description: "google: Cloud Translation v2; endpoint: a chat/MT model over HTTP; local: the base model through translation prompts" },
						endpoint: { type: "string", format: "uri", description: "Google v2 endpoint (default Google's) or the OpenAI-compatible base URL" },
						model_name: { type: "string", description: "Model name at the endpoint (backend: endpoint)" },
						api_key_env: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$", description: "Name of the environment variable holding the API key (google: default GOOGLE_TRANSLATE_API_KEY)" },
						max_tokens: { ...count, default: 2048, description: "Most new tokens per translated text (chat translation)" },
						concurrency: { ...count, default: 8, description: "Requests in flight" },
						exclude_flags: {
							type: "array",
							items: { type: "string" },
							default: ["lang_mismatch_query", "lang_mismatch_response", "empty_translation"],
							description: "Records with any of these flags stay out of the later stages' checked file (every record stays in <lang>.jsonl)",
						},
					},
				},
			},
		},
		tcot: {
			type: "object",
			description: "Stage tcot: transfer fine-tuning data, recovery KD + TCOT + translation, mixed (TransLLM Sec. 2.2.3)",
			additionalProperties: false,
			default: {},
			properties: {
				format: { enum: ["llamafactory", "trl"], default: "llamafactory", description: "Training engine's data format" },
				val_size: { type: "integer", minimum: 0, default: 2000, description: "Validation instances held out" },
				dataset_name: { type: "string", default: "transllm_tcot", description: "Name in dataset_info.json" },
			},
		},
		probe: {
			type: "object",
			description: "Stage probe: PROM's logit-lens probe and pivoted-objective data (PROM Sec. 2.2–2.3); needs a lexicon per language",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: false, description: "Run the stage" },
				shots: { type: "integer", minimum: 0, default: 5, description: "Few-shot examples per prompt (PROM Sec. 2.2)" },
				max_examples: { ...count, description: "Probe at most this many lexicon entries" },
			},
		},
		training: {
			type: "object",
			description: "Training hand-off (@transllm/train): stage files per TransLLM training stage, run when the engine is here (TransLLM Sec. 2.2, App. A.1–A.2)",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: false, description: "Run the training stages" },
				engine: { enum: ["llamafactory", "trl"], default: "llamafactory", description: "LLaMA-Factory (the paper's) or the TRL + PEFT script; without it here the stages wait for training" },
				checkpoint: { ...path, description: "The checkpoint to train (extended and resized; default: the extend stage's when base_model.checkpoint was resized, else base_model.checkpoint)" },
				template: { type: "string", default: "llama2", description: "LLaMA-Factory chat template of the model" },
				python: { type: "string", default: "python3", description: "Python of the TRL engine (with torch, transformers, peft, trl); a path with a slash is relative to this file" },
				max_steps: { ...count, description: "Stop every training stage after n steps and log every step (a smoke run; default: the paper's epochs)" },
				batch_size: { ...count, description: "Sequences per device and step in every training stage (default: the paper's, App. A.2)" },
				cutoff_len: { ...count, description: "Longest training sequence in tokens (default: the paper's, App. A.2)" },
				deepspeed: { type: "boolean", default: true, description: "DeepSpeed ZeRO-2 (TransLLM App. A.2)" },
			},
		},
		export: {
			type: "object",
			description: "Stage export: the trained Hugging Face checkpoint to ONNX for @transllm/runtime (TransLLM Sec. 2.3: inference)",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: false, description: "Run the stage" },
				checkpoint: { ...path, description: "A trained checkpoint to export (config.json, *.safetensors, tokenizer files); default: the training stages' merged model" },
				precision: { enum: ["fp32", "fp16", "int8", "int4"], default: "fp32", description: "Weights: fp32, fp16, or int8/int4 block quantization (MatMulNBits)" },
				block_size: { type: "integer", minimum: 16, default: 32, description: "Quantization block size (int8/int4; a power of two)" },
			},
		},
		eval: {
			type: "object",
			description: "Stage eval (@transllm/eval): TCOT answers to each language's questions, language fidelity, forgetting (TransLLM Sec. 3, Table 8)",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: false, description: "Run the stage" },
				model: { ...path, description: "The model to evaluate (ONNX, as @transllm/runtime loads it; default: the export stage's)" },
				max_tokens: { ...count, default: 1024, description: "Most new tokens per answer (greedy, TransLLM App. A.1)" },
				forgetting: { type: "boolean", default: true, description: "P(y|x) of the recovery-KD answers before and after (TransLLM Table 8)" },
			},
		},
		clo: {
			type: "object",
			description: "Stage clo: cross-lingual preference pairs (CLO Sec. 3.2)",
			additionalProperties: false,
			default: {},
			properties: {
				enabled: { type: "boolean", default: false, description: "Run the stage" },
				format: { enum: ["llamafactory", "trl"], default: "llamafactory", description: "Export format" },
				batch_size: { type: "integer", minimum: 2, default: 8, description: "Per-device batch size (whole pairs per step)" },
				validation_pairs: { type: "integer", minimum: 0, default: 0, description: "Pairs held out for validation" },
			},
		},
	},
} as const;
