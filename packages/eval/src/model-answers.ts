import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { InputError, readJsonl } from "@transllm/core";

/** One model's answers, by question id: FastChat model_answer lines, `eval answer` records or an AlpacaEval JSON list. */
export interface ModelAnswers {
	model: string;
	byQuestion: Map<string, string[]>;
	/** The English parts of TCOT answers, when the file has them (eval answer records). */
	englishByQuestion: Map<string, (string | undefined)[]>;
}

/** Reads a model's answers in any of the formats `eval answer` writes. */
export async function loadModelAnswers(path: string): Promise<ModelAnswers> {
	const byQuestion = new Map<string, string[]>();
	const englishByQuestion = new Map<string, (string | undefined)[]>();
	let model: string | undefined;
	if (path.endsWith(".json")) {
		const list = JSON.parse(await readFile(path, "utf8")) as { output?: unknown; generator?: unknown }[];
		if (!Array.isArray(list)) throw new InputError("an AlpacaEval output must be a JSON list", { file: path });
		for (const [index, item] of list.entries()) {
			if (typeof item?.output !== "string") throw new InputError(`example ${index}: "output" must be a string`, { file: path, field: `[${index}].output` });
			byQuestion.set(String(index), [item.output]);
			if (typeof item.generator === "string") model ??= item.generator;
		}
		return { model: model ?? basename(path, ".json"), byQuestion, englishByQuestion };
	}
	for await (const { value, line } of readJsonl(path)) {
		const id = String(value.question_id ?? value.id);
		if (id === "undefined") throw new InputError("an answer needs question_id (FastChat) or id (eval answer)", { file: path, line });
		let turns: unknown;
		if (Array.isArray(value.turns)) {
			const records = value.turns as { answer?: unknown; answer_en?: unknown }[];
			turns = records.map((t) => t?.answer);
			englishByQuestion.set(id, records.map((t) => (typeof t?.answer_en === "string" ? t.answer_en : undefined)));
		} else turns = (value.choices as { turns?: unknown }[] | undefined)?.[0]?.turns;
		if (!Array.isArray(turns) || turns.some((t) => typeof t !== "string")) throw new InputError("expected FastChat choices[0].turns or eval answer turns[].answer strings", { file: path, line });
		if (byQuestion.has(id)) throw new InputError(`duplicate answer to question ${id}`, { file: path, line });
		byQuestion.set(id, turns as string[]);
		if (typeof value.model_id === "string") model ??= value.model_id;
	}
	return { model: model ?? basename(path, ".jsonl"), byQuestion, englishByQuestion };
}
