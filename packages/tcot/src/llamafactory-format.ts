import { InputError } from "@transllm/core";
import type { TrainingInstance } from "./training-instance.js";

/** LLaMA-Factory's two SFT data formats (its data/README: `formatting: sharegpt | alpaca`). */
export type LlamaFactoryStyle = "sharegpt" | "alpaca";

/** A sharegpt record: `{"conversations":[{"from":"human","value":x},{"from":"gpt","value":y}]}`. */
export interface ShareGptRecord {
	conversations: { from: "human" | "gpt"; value: string }[];
}

/** An alpaca record: instruction x, empty input, output y. */
export interface AlpacaRecord {
	instruction: string;
	input: string;
	output: string;
}

/** A pre-training record (`stage: pt`): `{"text": …}`. */
export interface TextRecord {
	text: string;
}

/** Instance metadata that can ride along in an exported record (LLaMA-Factory ignores unknown columns). */
export interface InstanceMetadata {
	id: string;
	kind: TrainingInstance["kind"];
	lang: string;
}

function withMetadata<T extends object>(record: T, instance: TrainingInstance, metadata: boolean): T | (T & InstanceMetadata) {
	return metadata ? { ...record, id: instance.id, kind: instance.kind, lang: instance.lang } : record;
}

/** The seed repository's format: sharegpt with `human` = x and `gpt` = y. */
export function toShareGpt(instance: TrainingInstance, options: { metadata?: boolean } = {}): ShareGptRecord {
	return withMetadata(
		{
			conversations: [
				{ from: "human", value: instance.query },
				{ from: "gpt", value: instance.response },
			],
		},
		instance,
		options.metadata ?? false,
	);
}

export function toAlpaca(instance: TrainingInstance, options: { metadata?: boolean } = {}): AlpacaRecord {
	return withMetadata({ instruction: instance.query, input: "", output: instance.response }, instance, options.metadata ?? false);
}

/** Reads a sharegpt record back into (query, response); a record of another shape is an InputError naming the field. */
export function fromShareGpt(record: unknown): { query: string; response: string } {
	const conversations = (record as Partial<ShareGptRecord> | null)?.conversations;
	const [human, gpt] = Array.isArray(conversations) ? conversations : [];
	if (conversations?.length !== 2 || human?.from !== "human" || gpt?.from !== "gpt" || typeof human.value !== "string" || typeof gpt.value !== "string") {
		throw new InputError("expected one human turn and one gpt turn", { field: "conversations" });
	}
	return { query: human.value, response: gpt.value };
}

export function fromAlpaca(record: unknown): { query: string; response: string } {
	const value = record as Partial<AlpacaRecord> | null;
	if (typeof value?.instruction !== "string" || typeof value.output !== "string") throw new InputError("expected string instruction and output", { field: "instruction" });
	return { query: value.input ? `${value.instruction}\n${value.input}` : value.instruction, response: value.output };
}

/**
 * A `dataset_info.json` entry for a JSONL file written here (LLaMA-Factory data/README: `file_name`, `formatting`,
 * `columns`, `tags`).
 */
export function llamaFactoryDatasetInfo(fileName: string, style: LlamaFactoryStyle | "pretraining"): Record<string, unknown> {
	if (style === "sharegpt") {
		return {
			file_name: fileName,
			formatting: "sharegpt",
			columns: { messages: "conversations" },
			tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt" },
		};
	}
	if (style === "alpaca") return { file_name: fileName, formatting: "alpaca", columns: { prompt: "instruction", query: "input", response: "output" } };
	return { file_name: fileName, columns: { prompt: "text" } };
}

/**
 * The LLaMA-Factory training arguments the special tokens need: `add_special_tokens` (comma-separated; LLaMA-Factory ≥ 0.9.3, PR #7794 renamed `new_special_tokens`) adds them to
 * the tokenizer and `resize_vocab` grows the embeddings; TransLLM trains `embed_tokens` and `lm_head` too
 * (`../shared/papers/000_1ce36f3811662daf.txt` App. A.1).
 */
export function llamaFactorySpecialTokenArgs(specialTokens: readonly string[]): { add_special_tokens: string; resize_vocab: true; additional_target: string } {
	return { add_special_tokens: specialTokens.join(","), resize_vocab: true, additional_target: "embed_tokens,lm_head" };
}
