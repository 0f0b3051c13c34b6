import { buildTcotPrompt, parseTcotOutput } from "@transllm/tcot";
import type { TcotHistoryTurn, TcotParseResult } from "@transllm/tcot";
import type { GenerationParams } from "@transllm/recovery-kd";
import type { AnswerModel } from "./answer-model.js";

/** What one TCOT turn produced: the target answer, the English parts, how the output parsed. */
export interface TcotTurnResult {
	/** a^β: the answer in the target language (the benchmark's answer). */
	answer: string;
	/** q^α and a^α: the English intermediate parts (the next turn's history). */
	queryEn?: string;
	answerEn?: string;
	finishReason: string;
	/** The whole generated text (continuation included). */
	raw: string;
	parse: Pick<TcotParseResult, "mode" | "missing" | "irregular">;
	/** The stage the fallback forced, when the first output stopped short of it. */
	fallback?: "english-response" | "target-response";
	/** `tcot_incomplete` (no target answer even after the fallback), `fallback_unavailable` (no template to continue with). */
	flags: string[];
}

/**
 * One turn of a TCOT model (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.3): the prompt holds only the English
 * parts of earlier turns as history, the output `<EN> q^α <RESPONSE> a^α <β> a^β` is parsed with @transllm/tcot's
 * parser, and when it stopped before its last stage the parser's fallback appends the missing marker and the model
 * continues (once) from there.
 */
export async function answerTcotTurn(model: AnswerModel, query: string, history: readonly TcotHistoryTurn[], lang: string, params: GenerationParams, signal?: AbortSignal): Promise<TcotTurnResult> {
	// The template only matters for the fallback's raw-text continuation; a chat endpoint renders on its side.
	const { messages } = buildTcotPrompt({ query, history, family: "llama-2", ...(params.system !== undefined ? { system: params.system } : {}) });
	const first = await model.backend.generate(messages, params, signal);
	let raw = first.text;
	let finishReason = first.finishReason;
	let parsed = parseTcotOutput(raw, { lang });
	const flags: string[] = [];
	let fallback: TcotTurnResult["fallback"];
	if (parsed.fallback) {
		if (model.render && model.continueText) {
			fallback = parsed.fallback.stage;
			const prompt = model.render(messages) + parsed.fallback.continueFrom;
			const more = await model.continueText(prompt, params, signal);
			raw = `${parsed.fallback.continueFrom}${more.text}`;
			finishReason = more.finishReason;
			parsed = parseTcotOutput(raw, { lang });
		} else flags.push("fallback_unavailable");
	}
	if (parsed.responseTarget === undefined) flags.push("tcot_incomplete");
	// Without a target answer the best there is stands in (English answer, then the raw text), flagged.
	const answer = parsed.responseTarget ?? parsed.responseEn ?? parsed.unmarked ?? raw.trim();
	return {
		answer,
		...(parsed.queryEn !== undefined ? { queryEn: parsed.queryEn } : {}),
		...(parsed.responseEn !== undefined ? { answerEn: parsed.responseEn } : {}),
		finishReason,
		raw,
		parse: { mode: parsed.mode, missing: parsed.missing, irregular: parsed.irregular },
		...(fallback ? { fallback } : {}),
		flags,
	};
}
