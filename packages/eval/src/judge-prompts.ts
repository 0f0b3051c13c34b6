import { readFile } from "node:fs/promises";
import { ConfigError, InputError } from "@transllm/core";

/** A judge prompt in FastChat's `judge_prompts.jsonl` shape. */
export interface JudgePrompt {
	name: string;
	type: "pairwise" | "single";
	system_prompt: string;
	/** Slots: {question}, {answer_a}, {answer_b}, {answer}, {ref_answer_1}; multi-turn {question_1}, {question_2}, {answer_a_1} … */
	prompt_template: string;
	description?: string;
	category?: string;
	/** `[[A]]` (pairwise) or `[[rating]]` (single). */
	output_format: string;
}

/** MT-Bench categories whose judge prompts carry the reference answer (FastChat's NEED_REF_CATS). */
export const REFERENCE_CATEGORIES: readonly string[] = ["math", "reasoning", "coding"];

const PAIR_RULES =
	"Compare the two AI assistants' answers to the user below and decide which one serves the user better. Weigh helpfulness, relevance, accuracy, depth, creativity and the right amount of detail. " +
	"The order in which the answers appear must not sway you, nor must their length or the assistants' names. Stay as objective as you can. " +
	'Give a short explanation first, then your verdict in exactly this form: "[[A]]" when assistant A is better, "[[B]]" when assistant B is better, "[[C]]" for a tie.';
const PAIR_REFERENCE_RULES =
	"Compare the two AI assistants' answers to the user below and decide which one serves the user better. A reference answer is given: first work out where each answer is right or wrong by checking it against the reference, and correct the mistakes you find. " +
	"The order in which the answers appear must not sway you, nor must their length or the assistants' names. Stay as objective as you can. " +
	'Give a short explanation first, then your verdict in exactly this form: "[[A]]" when assistant A is better, "[[B]]" when assistant B is better, "[[C]]" for a tie.';
const MULTI_TURN_FOCUS = " The conversations have two turns: judge how well each assistant answers the user's second question, with the first turn as context.";
const SINGLE_RULES =
	"Act as an impartial judge of the answer an AI assistant gave to the user below. Weigh helpfulness, relevance, accuracy, depth, creativity and the right amount of detail. Stay as objective as you can. " +
	'Give a short explanation first, then a score from 1 to 10 in exactly this form: "[[rating]]", e.g. "Rating: [[6]]".';
const SINGLE_REFERENCE_RULES =
	"Act as an impartial judge of the answer an AI assistant gave to the user below, checking its correctness against the reference answer and pointing out any mistake. Stay as objective as you can. " +
	'Give a short explanation first, then a score from 1 to 10 in exactly this form: "[[rating]]", e.g. "Rating: [[6]]".';

const oneTurnPair = "[Question from the user]\n{question}\n\n[Assistant A's answer begins]\n{answer_a}\n[Assistant A's answer ends]\n\n[Assistant B's answer begins]\n{answer_b}\n[Assistant B's answer ends]";
const twoTurnPair =
	"<|Conversation with assistant A begins|>\n\n### User:\n{question_1}\n\n### Assistant A:\n{answer_a_1}\n\n### User:\n{question_2}\n\n### Assistant A:\n{answer_a_2}\n\n<|Conversation with assistant A ends|>\n\n" +
	"<|Conversation with assistant B begins|>\n\n### User:\n{question_1}\n\n### Assistant B:\n{answer_b_1}\n\n### User:\n{question_2}\n\n### Assistant B:\n{answer_b_2}\n\n<|Conversation with assistant B ends|>";
const oneTurnSingle = "[Question from the user]\n{question}\n\n[The assistant's answer begins]\n{answer}\n[The assistant's answer ends]";
const twoTurnSingle = "<|Conversation begins|>\n\n### User:\n{question_1}\n\n### Assistant:\n{answer_1}\n\n### User:\n{question_2}\n\n### Assistant:\n{answer_2}\n\n<|Conversation ends|>";

/**
 * transllm's own judge prompts, written for this package with the structure of FastChat's MT-Bench prompts (same
 * names, types, slots and output formats, so a FastChat `judge_prompts.jsonl` can replace any of them): pairwise and
 * single, one and two turns, with and without a reference answer.
 */
export const BUILTIN_JUDGE_PROMPTS: readonly JudgePrompt[] = [
	{ name: "pair-v2", type: "pairwise", system_prompt: PAIR_RULES, prompt_template: oneTurnPair, description: "Pairwise, one turn", category: "general", output_format: "[[A]]" },
	{ name: "pair-v2-multi-turn", type: "pairwise", system_prompt: PAIR_RULES + MULTI_TURN_FOCUS, prompt_template: twoTurnPair, description: "Pairwise, second turn", category: "general", output_format: "[[A]]" },
	{ name: "pair-math-v1", type: "pairwise", system_prompt: PAIR_REFERENCE_RULES, prompt_template: `[Question from the user]\n{question}\n\n[Reference answer begins]\n{ref_answer_1}\n[Reference answer ends]\n\n${oneTurnPair.replace("[Question from the user]\n{question}\n\n", "")}`, description: "Pairwise with a reference, one turn", category: "math", output_format: "[[A]]" },
	{ name: "pair-math-v1-multi-turn", type: "pairwise", system_prompt: PAIR_REFERENCE_RULES + MULTI_TURN_FOCUS, prompt_template: `<|Reference answers begin|>\n\n### User:\n{question_1}\n\n### Reference answer:\n{ref_answer_1}\n\n### User:\n{question_2}\n\n### Reference answer:\n{ref_answer_2}\n\n<|Reference answers end|>\n\n${twoTurnPair}`, description: "Pairwise with a reference, second turn", category: "math", output_format: "[[A]]" },
	{ name: "single-v1", type: "single", system_prompt: SINGLE_RULES, prompt_template: oneTurnSingle, description: "Single answer, one turn", category: "general", output_format: "[[rating]]" },
	{ name: "single-v1-multi-turn", type: "single", system_prompt: SINGLE_RULES + " Judge the assistant's answer to the second question.", prompt_template: twoTurnSingle, description: "Single answer, second turn", category: "general", output_format: "[[rating]]" },
	{ name: "single-math-v1", type: "single", system_prompt: SINGLE_REFERENCE_RULES, prompt_template: `[Question from the user]\n{question}\n\n[Reference answer begins]\n{ref_answer_1}\n[Reference answer ends]\n\n[The assistant's answer begins]\n{answer}\n[The assistant's answer ends]`, description: "Single answer with a reference, one turn", category: "math", output_format: "[[rating]]" },
	{ name: "single-math-v1-multi-turn", type: "single", system_prompt: SINGLE_REFERENCE_RULES + " Judge the assistant's answer to the second question.", prompt_template: `<|Reference answers begin|>\n\n### User:\n{question_1}\n\n### Reference answer:\n{ref_answer_1}\n\n### User:\n{question_2}\n\n### Reference answer:\n{ref_answer_2}\n\n<|Reference answers end|>\n\n${twoTurnSingle}`, description: "Single answer with a reference, second turn", category: "math", output_format: "[[rating]]" },
];

/**
 * The sentence that tells the judge the conversation is in the target language (paper App. A.4.2: "We modify the
 * evaluation prompts … to inform GPT-4 that the queries and responses are in target languages").
 */
export function languageNote(languageName: string): string {
	return ` The user's questions and the assistants' answers are written in ${languageName}; judge them as a fluent ${languageName} speaker would, and count an answer in another language than the question's against it.`;
}

/** Loads prompts in FastChat's judge_prompts.jsonl shape; those named like a built-in replace it. */
export async function loadJudgePrompts(path?: string): Promise<Map<string, JudgePrompt>> {
	const prompts = new Map(BUILTIN_JUDGE_PROMPTS.map((p) => [p.name, p]));
	if (!path) return prompts;
	const text = await readFile(path, "utf8").catch((error: Error) => {
		throw new ConfigError(`--judge-prompts: cannot read ${path}: ${error.message}`);
	});
	for (const [index, raw] of text.split("\n").entries()) {
		if (raw.trim() === "") continue;
		let value: JudgePrompt;
		try {
			value = JSON.parse(raw) as JudgePrompt;
		} catch (error) {
			throw new InputError(`invalid JSON: ${(error as Error).message}`, { file: path, line: index + 1 });
		}
		for (const field of ["name", "system_prompt", "prompt_template", "output_format"] as const) {
			if (typeof value[field] !== "string") throw new InputError(`field "${field}" must be a string`, { file: path, line: index + 1, field });
		}
		if (value.type !== "pairwise" && value.type !== "single") throw new InputError('field "type" must be "pairwise" or "single"', { file: path, line: index + 1, field: "type" });
		prompts.set(value.name, value);
	}
	return prompts;
}

/** The prompt FastChat picks for a question: reference prompts for math, reasoning and coding; multi-turn ones for turn 2. */
export function judgePromptName(type: "pairwise" | "single", category: string | undefined, turn: number): string {
	const reference = category !== undefined && REFERENCE_CATEGORIES.includes(category);
	const base = type === "pairwise" ? (reference ? "pair-math-v1" : "pair-v2") : reference ? "single-math-v1" : "single-v1";
	return turn > 1 ? `${base}-multi-turn` : base;
}

/** Fills `{slot}`s in one pass (slot-like text inside answers is left alone); an unknown slot is an error. */
export function fillTemplate(template: string, slots: Record<string, string>, promptName: string): string {
	return template.replace(/\{([a-z_0-9]+)\}/g, (whole, name: string) => {
		const value = slots[name];
		if (value === undefined) throw new ConfigError(`judge prompt "${promptName}" uses {${name}}, which this question does not have`);
		return value;
	});
}
