import { readFile } from "node:fs/promises";
import { InputError, checkLanguage, getLanguage, readJsonl } from "@transllm/core";
import { escapeHtml, fixed, htmlTable, shorten } from "./html.js";
import type { EvalResult } from "./report-section.js";

/** One answer text to check, from any of the answer formats. */
interface AnswerText {
	id: string;
	turn: number;
	text: string;
}

/** A wrong-language answer, listed in the result. */
export interface WrongLanguageAnswer {
	id: string;
	turn: number;
	detected: string;
	reason: string;
	excerpt: string;
}

export interface LanguageFidelityResults {
	lang: string;
	answers: number;
	inLanguage: number;
	/** inLanguage / answers, in percent. */
	share: number;
	/** The same per turn (MT-Bench's first and second turn). */
	perTurn: { turn: number; answers: number; inLanguage: number; share: number }[];
	wrong: WrongLanguageAnswer[];
}

/** Reads answers: `eval answer` records, FastChat `model_answer` lines or an AlpacaEval JSON list. */
async function* answerTexts(path: string): AsyncGenerator<AnswerText> {
	if (path.endsWith(".json")) {
		const list = JSON.parse(await readFile(path, "utf8")) as { output?: unknown }[];
		if (!Array.isArray(list)) throw new InputError("an AlpacaEval output must be a JSON list", { file: path });
		for (const [index, item] of list.entries()) {
			if (typeof item?.output !== "string") throw new InputError(`example ${index}: "output" must be a string`, { file: path, field: `[${index}].output` });
			yield { id: String(index), turn: 1, text: item.output };
		}
		return;
	}
	for await (const { value, line } of readJsonl(path)) {
		const turns = Array.isArray(value.turns)
			? (value.turns as { answer?: unknown }[]).map((t) => t?.answer)
			: ((value.choices as { turns?: unknown[] }[] | undefined)?.[0]?.turns ?? (typeof value.answer === "string" ? [value.answer] : undefined));
		if (!Array.isArray(turns) || turns.some((t) => typeof t !== "string")) {
			throw new InputError("expected an eval answer record (turns[].answer), a FastChat answer (choices[0].turns) or {answer}", { file: path, line });
		}
		const id = String(value.id ?? value.question_id ?? line);
		for (const [index, text] of (turns as string[]).entries()) yield { id, turn: index + 1, text };
	}
}

/**
 * `eval language`: the share of answers written in the expected language, by @transllm/core's language check (script
 * share, then franc's identification among the registry's languages). A TCOT model that falls back to English, or a
 * Chat-Vector-style model that answers Thai questions in English (Sec. 1 of the paper), shows up here.
 */
export async function languageFidelity(options: { answers: string; lang: string }): Promise<EvalResult<LanguageFidelityResults>> {
	const lang = getLanguage(options.lang).code;
	const wrong: WrongLanguageAnswer[] = [];
	const perTurn = new Map<number, { answers: number; inLanguage: number }>();
	let answers = 0;
	let inLanguage = 0;
	for await (const answer of answerTexts(options.answers)) {
		const check = checkLanguage(answer.text, lang);
		const turn = perTurn.get(answer.turn) ?? { answers: 0, inLanguage: 0 };
		perTurn.set(answer.turn, turn);
		answers += 1;
		turn.answers += 1;
		if (check.ok) {
			inLanguage += 1;
			turn.inLanguage += 1;
		} else wrong.push({ id: answer.id, turn: answer.turn, detected: check.detected, reason: check.reason ?? `identified as ${check.detected}`, excerpt: shorten(answer.text) });
	}
	const share = (n: number, d: number): number => (d === 0 ? 0 : (100 * n) / d);
	const results: LanguageFidelityResults = {
		lang,
		answers,
		inLanguage,
		share: share(inLanguage, answers),
		perTurn: [...perTurn.entries()].sort(([a], [b]) => a - b).map(([turn, t]) => ({ turn, ...t, share: share(t.inLanguage, t.answers) })),
		wrong,
	};
	const name = getLanguage(lang).englishName;
	const html = [
		`<p>${inLanguage} of ${answers} answers (${fixed(results.share)}%) are in ${escapeHtml(name)} (core's language check: script share ≥ 50%, then trigram identification).</p>`,
		htmlTable(["Turn", "Answers", `In ${name}`, "Share (%)"], results.perTurn.map((t) => [t.turn, t.answers, t.inLanguage, fixed(t.share)])),
		wrong.length ? htmlTable(["Id", "Turn", "Detected", "Why", "Answer"], wrong.slice(0, 50).map((w) => [w.id, w.turn, w.detected, w.reason, w.excerpt]), `Answers not in ${name}${wrong.length > 50 ? ` (first 50 of ${wrong.length})` : ""}`) : "",
	].join("\n");
	return { tool: "@transllm/eval", kind: "language", paper: "TransLLM Sec. 1 and 4.2 (English answers to Thai queries)", results, section: { title: `Language fidelity (${name})`, html } };
}
