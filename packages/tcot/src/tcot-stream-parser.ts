import { listLanguages } from "@transllm/core";
import { EOS_TEXTS } from "./chat-templates.js";
import { EN_TOKEN, RESPONSE_TOKEN, normalizeLanguage, targetLanguageToken } from "./special-tokens.js";

/** The three stages of a TCOT output (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.3). */
export type TcotStage = "english-query" | "english-response" | "target-response";

/**
 * What an output looks like: `tcot` (the chain), `english` (`<RESPONSE> …` only: the recovery-KD answer to an
 * English query), `translation` (`<β> …` only: a translation answer), `unmarked` (no marker at all).
 */
export type TcotMode = "tcot" | "english" | "translation" | "unmarked";

export interface TcotParseResult {
	/** q^α: text between `<EN>` and `<RESPONSE>` (or before `<RESPONSE>` when `<EN>` is missing). */
	queryEn?: string;
	/** a^α: text between `<RESPONSE>` and the target-language token. */
	responseEn?: string;
	/** a^β: text after the target-language token, up to the end of sequence. */
	responseTarget?: string;
	/** The language of the target-language token that was found. */
	lang?: string;
	mode: TcotMode;
	/**
	 * Stages with no text in the output, in chain order: of the three TCOT stages, or, for an English-mode answer
	 * (`<RESPONSE> a^α`, the recovery-KD form a TransLLM model gives to an English query, Sec. 2.2.3), of its one stage.
	 */
	missing: TcotStage[];
	/** Every stage of the output's mode is there: the TCOT chain's three, or the English-mode answer. */
	complete: boolean;
	/** An end-of-sequence text (`</s>`, `<|eot_id|>` …) ended the output; anything after it was dropped. */
	endedWithEos: boolean;
	/** Text before the first marker that is not the English query (an output without markers lands here). */
	unmarked?: string;
	/** Markers repeated or out of order; the text after them (until the next stage's marker) was dropped. */
	irregular: boolean;
	/**
	 * The fallback for an output that stopped before its last stage: append ` <RESPONSE>` (English query done, no
	 * answer) or ` <β>` (English answer done, no target answer) to the output and let the model continue from
	 * `continueFrom`. The ` <β>` fallback needs the target language (the parser's `lang` option).
	 */
	fallback?: { stage: "english-response" | "target-response"; append: string; continueFrom: string };
}

export type TcotStreamEvent =
	/** A piece of English text as it is generated (concatenated per stage, the stage's final text); `english` when the answer is an English-mode one. */
	| { type: "english-delta"; stage: "english-query" | "english-response"; text: string; english: boolean }
	| { type: "english-query"; text: string }
	| { type: "english-response"; text: string }
	| { type: "target-delta"; text: string }
	| { type: "end"; result: TcotParseResult };

export interface TcotParserOptions {
	/** Target language: only its token opens the target stage (default: any language-ID token but `<EN>`). */
	lang?: string;
	/** End-of-sequence texts besides the built-in ones (`</s>`, `<|eot_id|>`, `<|im_end|>`, `<end_of_turn>` …). */
	eosTexts?: readonly string[];
}

type Marker = { kind: "stage"; rank: 1 | 2 | 3; lang?: string } | { kind: "eos" } | { kind: "bos" };

const BOS_TEXTS = ["<s>", "<|begin_of_text|>", "<bos>"];
const START = 0;

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Incremental TCOT output parser: feed decoded text chunks as they are generated; it emits `english-delta` pieces of
 * the English query and answer, `english-query` when `<RESPONSE>` closes the English query, `english-response` when
 * the target-language token (or, for an English-mode answer `<RESPONSE> a^α`, the end of the output) closes the
 * English answer, and `target-delta` pieces of the target answer (whose concatenation is the final `responseTarget`). A marker split
 * across chunks is held back until it is complete. Robust to spacing (parts are trimmed), to EOS text, and to
 * repeated markers (a repeat closes the stage's text) or missing ones (reported in `missing`).
 */
export class TcotStreamParser {
	private readonly markers = new Map<string, Marker>();
	private readonly prefixes = new Set<string>();
	private readonly pattern: RegExp;
	private readonly longestMarker: number;
	private readonly lang: string | undefined;
	private buffer = "";
	private consumed = "";
	private stage = START;
	private ignoring = false;
	private irregular = false;
	private endedWithEos = false;
	/** EOS seen: everything after it is dropped. */
	private ended = false;
	private readonly seen = new Set<number>();
	private readonly texts: [string, string, string, string] = ["", "", "", ""];
	private queryFromPrefix = false;
	private foundLang: string | undefined;
	/** Characters of each stage's trimmed text already emitted as deltas. */
	private readonly emitted: [number, number, number, number] = [0, 0, 0, 0];
	/** The output began with `<RESPONSE>`: an English-mode answer so far. */
	private englishMode = false;
	private englishResponseEmitted = false;
	private finished: TcotParseResult | undefined;

	constructor(options: TcotParserOptions = {}) {
		this.lang = options.lang !== undefined ? normalizeLanguage(options.lang) : undefined;
		this.markers.set(EN_TOKEN, { kind: "stage", rank: 1 });
		this.markers.set(RESPONSE_TOKEN, { kind: "stage", rank: 2 });
		const targets = this.lang !== undefined ? [this.lang] : listLanguages().map((language) => language.code).filter((code) => code !== "en");
		for (const lang of targets) this.markers.set(targetLanguageToken(lang), { kind: "stage", rank: 3, lang });
		for (const text of [...EOS_TEXTS, ...(options.eosTexts ?? [])]) this.markers.set(text, { kind: "eos" });
		for (const text of BOS_TEXTS) if (!this.markers.has(text)) this.markers.set(text, { kind: "bos" });
		const all = [...this.markers.keys()].sort((a, b) => b.length - a.length);
		for (const marker of all) for (let i = 1; i < marker.length; i++) this.prefixes.add(marker.slice(0, i));
		this.pattern = new RegExp(all.map(escapeRegExp).join("|"), "g");
		this.longestMarker = all[0]?.length ?? 0;
	}

	/** Feeds a chunk of generated text; returns the events it completes. */
	push(chunk: string): TcotStreamEvent[] {
		if (this.finished) throw new Error("TcotStreamParser: push() after end()");
		const events: TcotStreamEvent[] = [];
		this.buffer += chunk;
		this.pattern.lastIndex = 0;
		let position = 0;
		for (let match = this.pattern.exec(this.buffer); match !== null; match = this.pattern.exec(this.buffer)) {
			this.text(this.buffer.slice(position, match.index), events);
			this.marker(match[0], events);
			position = match.index + match[0].length;
		}
		// Hold back a tail that may be the start of a marker completed by the next chunk.
		let hold = this.buffer.length;
		for (let start = this.buffer.lastIndexOf("<"); start >= position && start > this.buffer.length - this.longestMarker; start = this.buffer.lastIndexOf("<", start - 1)) {
			if (this.prefixes.has(this.buffer.slice(start))) hold = start;
			if (start === 0) break;
		}
		this.text(this.buffer.slice(position, hold), events);
		this.buffer = this.buffer.slice(hold);
		return events;
	}

	/** The result so far, without ending the stream (a server decides on the fallback from it before continuing). */
	peek(): TcotParseResult {
		return this.finished ?? this.result();
	}

	/** Ends the stream: flushes held-back text and returns the last events, the final one `end` with the result. */
	end(): TcotStreamEvent[] {
		if (this.finished) return [{ type: "end", result: this.finished }];
		const events: TcotStreamEvent[] = [];
		this.text(this.buffer, events);
		this.buffer = "";
		this.closeEnglishMode(events);
		this.finished = this.result();
		events.push({ type: "end", result: this.finished });
		return events;
	}

	private text(text: string, events: TcotStreamEvent[]): void {
		if (text === "" || this.ended) return;
		this.consumed += text;
		if (this.ignoring) return;
		this.texts[this.stage] += text;
		if (this.stage === START) return;
		const stage = this.stage as 1 | 2 | 3;
		// Deltas of the trimmed text: leading space is never sent, trailing space waits for the next word.
		const full = this.texts[stage].trimStart();
		const upTo = full.trimEnd().length;
		if (upTo <= this.emitted[stage]) return;
		const delta = full.slice(this.emitted[stage], upTo);
		this.emitted[stage] = upTo;
		if (stage === 3) events.push({ type: "target-delta", text: delta });
		else events.push({ type: "english-delta", stage: stage === 1 ? "english-query" : "english-response", text: delta, english: this.englishMode });
	}

	/** An English-mode answer is closed by the end of the output (EOS or end()), not by a marker. */
	private closeEnglishMode(events: TcotStreamEvent[]): void {
		if (!this.englishMode || this.stage !== 2 || this.englishResponseEmitted || this.texts[2].trim() === "") return;
		this.englishResponseEmitted = true;
		events.push({ type: "english-response", text: this.texts[2].trim() });
	}

	private marker(text: string, events: TcotStreamEvent[]): void {
		if (this.ended) return;
		const marker = this.markers.get(text) as Marker;
		if (marker.kind === "bos") return;
		if (marker.kind === "eos") {
			this.endedWithEos = true;
			this.ended = true;
			this.closeEnglishMode(events);
			return;
		}
		this.consumed += text;
		if (marker.rank <= this.stage) {
			// A repeat with nothing written yet is one marker; otherwise the model loops or restarts the chain.
			if (marker.rank === this.stage && this.texts[this.stage].trim() === "") return;
			this.irregular = true;
			this.ignoring = true;
			return;
		}
		this.closeStage(events, marker.rank);
		// `<RESPONSE>` first, nothing before it: the recovery-KD answer to an English query (Sec. 2.2.3).
		this.englishMode = this.stage === START && marker.rank === 2 && this.texts[0].trim() === "";
		this.seen.add(marker.rank);
		this.stage = marker.rank;
		this.ignoring = false;
		if (marker.rank === 3) this.foundLang = marker.lang;
	}

	// Leaving a stage for a later one: the English query / answer is final, so emit it.
	private closeStage(events: TcotStreamEvent[], next: number): void {
		if (this.stage === START && next === 2 && this.texts[0].trim() !== "") {
			// `q <RESPONSE> a`: the `<EN>` marker is missing but the text before `<RESPONSE>` is the English query.
			this.texts[1] = this.texts[0];
			this.texts[0] = "";
			this.queryFromPrefix = true;
			events.push({ type: "english-query", text: this.texts[1].trim() });
		} else if (this.stage === 1 && this.texts[1].trim() !== "") {
			events.push({ type: "english-query", text: this.texts[1].trim() });
		} else if (this.stage === 2 && this.texts[2].trim() !== "" && !this.englishResponseEmitted) {
			this.englishResponseEmitted = true;
			events.push({ type: "english-response", text: this.texts[2].trim() });
		}
	}

	private result(): TcotParseResult {
		const part = (text: string) => (text.trim() === "" ? undefined : text.trim());
		const queryEn = part(this.texts[1]);
		const responseEn = part(this.texts[2]);
		const responseTarget = part(this.texts[3]);
		const sawEnglish = this.seen.has(1) || this.queryFromPrefix;
		const mode: TcotMode =
			sawEnglish || (this.seen.has(2) && this.seen.has(3)) ? "tcot" : this.seen.has(2) ? "english" : this.seen.has(3) ? "translation" : "unmarked";
		const missing: TcotStage[] = [];
		if (queryEn === undefined && mode !== "english") missing.push("english-query");
		if (responseEn === undefined) missing.push("english-response");
		if (responseTarget === undefined && mode !== "english") missing.push("target-response");
		const result: TcotParseResult = { mode, missing, complete: missing.length === 0, endedWithEos: this.endedWithEos, irregular: this.irregular };
		if (queryEn !== undefined) result.queryEn = queryEn;
		if (responseEn !== undefined) result.responseEn = responseEn;
		if (responseTarget !== undefined) result.responseTarget = responseTarget;
		if (this.foundLang !== undefined) result.lang = this.foundLang;
		const unmarked = part(this.texts[0]);
		if (unmarked !== undefined) result.unmarked = unmarked;
		// The paper's fallback: force the next marker and let the model go on from there.
		const continueFrom = this.consumed.trimEnd();
		// Only after a stage that has its text: appending ` <TH>` to `q <RESPONSE>` (no English answer yet) would skip a stage.
		if (mode === "tcot" && this.stage === 1 && !this.ignoring && queryEn !== undefined) {
			result.fallback = { stage: "english-response", append: ` ${RESPONSE_TOKEN}`, continueFrom: `${continueFrom} ${RESPONSE_TOKEN}` };
		} else if (mode === "tcot" && this.stage === 2 && !this.ignoring && responseEn !== undefined && this.lang !== undefined) {
			const token = targetLanguageToken(this.lang);
			result.fallback = { stage: "target-response", append: ` ${token}`, continueFrom: `${continueFrom} ${token}` };
		}
		return result;
	}
}

/**
 * Parses a whole generated output into English query, English response and target-language response (Sec. 2.3:
 * y = cat(⟨α⟩, q^α, ⟨RESPONSE⟩, a^α, ⟨β⟩, a^β)). Same rules as the streaming parser.
 */
export function parseTcotOutput(text: string, options: TcotParserOptions = {}): TcotParseResult {
	const parser = new TcotStreamParser(options);
	parser.push(text);
	const events = parser.end();
	return (events[events.length - 1] as { type: "end"; result: TcotParseResult }).result;
}
