import { InputError, readLines } from "@transllm/core";

/**
 * The row layouts the training hand-off reads, as transllm writes them: `text` (corpus clean, tcot translation
 * pre-training), `sharegpt` (tcot --format llamafactory), `messages` (tcot --format trl, prom-probe pivot data),
 * `alpaca`, `pairwise` (clo pairs --format llamafactory) and `preference` (clo pairs --format trl, standard).
 */
export type DataLayout = "text" | "sharegpt" | "messages" | "alpaca" | "pairwise" | "preference";

export const TEXT_LAYOUTS: readonly DataLayout[] = ["text"];
export const CHAT_LAYOUTS: readonly DataLayout[] = ["sharegpt", "messages", "alpaca"];
export const PREFERENCE_LAYOUTS: readonly DataLayout[] = ["pairwise", "preference"];

/** The layout of a JSONL file, from its first record. */
export async function detectLayout(file: string): Promise<DataLayout> {
	for await (const { bytes, line } of readLines(file)) {
		const raw = bytes.toString("utf8").trim();
		if (raw === "") continue;
		let record: unknown;
		try {
			record = JSON.parse(raw);
		} catch (error) {
			throw new InputError(`not JSON: ${(error as Error).message}`, { file, line });
		}
		const keys = new Set(typeof record === "object" && record !== null ? Object.keys(record) : []);
		if (keys.has("conversations")) return "sharegpt";
		if (keys.has("messages")) return "messages";
		if (keys.has("instruction") && keys.has("chosen") && keys.has("rejected")) return "pairwise";
		if (keys.has("prompt") && keys.has("chosen") && keys.has("rejected")) {
			if (typeof (record as { prompt: unknown }).prompt !== "string") throw new InputError("conversational preference rows (prompt as messages) are not supported: write the standard form (clo pairs --format trl, trl_standard.jsonl)", { file, line, field: "prompt" });
			return "preference";
		}
		if (keys.has("instruction") && keys.has("output")) return "alpaca";
		if (keys.has("text")) return "text";
		throw new InputError(`unknown row layout (keys ${[...keys].join(", ")}): expected text, conversations, messages, instruction/output, instruction/chosen/rejected or prompt/chosen/rejected`, { file, line });
	}
	throw new InputError("no records", { file });
}

/** Throws unless `layout` is one a stage reads. */
export function requireLayout(file: string, layout: DataLayout, accepted: readonly DataLayout[], stage: string): void {
	if (!accepted.includes(layout)) throw new InputError(`${stage} reads ${accepted.join(" or ")} rows, this file holds ${layout} rows`, { file });
}

/** The dataset_info.json entry LLaMA-Factory needs to read a file of this layout (data/README.md of LLaMA-Factory). */
export function datasetInfoEntry(file: string, layout: DataLayout): Record<string, unknown> {
	switch (layout) {
		case "text":
			return { file_name: file, columns: { prompt: "text" } };
		case "sharegpt":
			return { file_name: file, formatting: "sharegpt", columns: { messages: "conversations" }, tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt", system_tag: "system" } };
		case "messages":
			return { file_name: file, formatting: "sharegpt", columns: { messages: "messages" }, tags: { role_tag: "role", content_tag: "content", user_tag: "user", assistant_tag: "assistant", system_tag: "system" } };
		case "alpaca":
			return { file_name: file, formatting: "alpaca", columns: { prompt: "instruction", query: "input", response: "output" } };
		case "pairwise":
			return { file_name: file, ranking: true, columns: { prompt: "instruction", query: "input", chosen: "chosen", rejected: "rejected" } };
		case "preference":
			return { file_name: file, ranking: true, columns: { prompt: "prompt", chosen: "chosen", rejected: "rejected" } };
	}
}
