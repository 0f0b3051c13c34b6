import type { CloRow } from "./clo-pair.js";

/** TRL's standard preference form: the prompt and both answers as plain text. */
export interface TrlStandardRow {
	prompt: string;
	chosen: string;
	rejected: string;
}

export interface TrlMessage {
	role: "user" | "assistant";
	content: string;
}

/** TRL's conversational preference form: the prompt as user turn(s), each answer as an assistant turn. */
export interface TrlConversationalRow {
	prompt: TrlMessage[];
	chosen: TrlMessage[];
	rejected: TrlMessage[];
}

/** One CLO row in TRL's standard preference form (`DPOTrainer` applies no chat template to it). */
export function toTrlStandard(row: CloRow): TrlStandardRow {
	return { prompt: row.prompt, chosen: row.chosen, rejected: row.rejected };
}

/** One CLO row in TRL's conversational preference form (`DPOTrainer` applies the tokenizer's chat template). */
export function toTrlConversational(row: CloRow): TrlConversationalRow {
	return {
		prompt: [{ role: "user", content: row.prompt }],
		chosen: [{ role: "assistant", content: row.chosen }],
		rejected: [{ role: "assistant", content: row.rejected }],
	};
}
