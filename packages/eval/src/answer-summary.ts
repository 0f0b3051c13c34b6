import { fixed, htmlTable } from "./html.js";
import type { AnswerRecord } from "./answers.js";
import type { EvalResult } from "./report-section.js";

export interface AnswerSummaryResults {
	model: string;
	mode: string;
	questions: number;
	turns: number;
	/** Turns per flag (`truncated`, `empty`, `tcot_incomplete`, `fallback_unavailable`, `history_substituted`). */
	flags: Record<string, number>;
	/** TCOT: turns whose output had all three parts at once, after the fallback, or not at all. */
	tcot?: { complete: number; completedByFallback: number; incomplete: number };
}

/** What an answer run produced: counts, flags, and for a TCOT model how often the chain came out whole (Sec. 2.3). */
export function summariseAnswers(records: readonly AnswerRecord[]): EvalResult<AnswerSummaryResults> {
	const turns = records.flatMap((r) => r.turns);
	const flags: Record<string, number> = {};
	for (const turn of turns) for (const flag of turn.flags ?? []) flags[flag] = (flags[flag] ?? 0) + 1;
	const model = records[0]?.model_id ?? "model";
	const mode = records[0]?.mode ?? "plain";
	const results: AnswerSummaryResults = { model, mode, questions: records.length, turns: turns.length, flags };
	if (mode === "tcot") {
		const incomplete = turns.filter((t) => t.flags?.includes("tcot_incomplete")).length;
		const completedByFallback = turns.filter((t) => t.tcot?.fallback && !t.flags?.includes("tcot_incomplete")).length;
		results.tcot = { complete: turns.length - incomplete - completedByFallback, completedByFallback, incomplete };
	}
	const share = (n: number) => fixed(turns.length ? (100 * n) / turns.length : 0);
	const rows: (string | number)[][] = Object.entries(flags).sort().map(([flag, n]) => [flag, n, share(n)]);
	const html = [
		`<p>${records.length} questions, ${turns.length} turns answered by ${model} (${mode}).</p>`,
		results.tcot ? htmlTable(["TCOT output", "Turns", "%"], [["complete", results.tcot.complete, share(results.tcot.complete)], ["completed by the fallback", results.tcot.completedByFallback, share(results.tcot.completedByFallback)], ["incomplete (flagged)", results.tcot.incomplete, share(results.tcot.incomplete)]]) : "",
		rows.length ? htmlTable(["Flag", "Turns", "%"], rows) : "<p>No turn flagged.</p>",
	].join("\n");
	return { tool: "@transllm/eval", kind: "answer", paper: "TransLLM Sec. 2.3 (TCOT inference), Sec. 3.1 (benchmarks)", results, section: { title: `Answers: ${model}`, html } };
}
