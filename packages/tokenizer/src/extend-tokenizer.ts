import { ConfigError, Reservoir, SeededRng, createProgress, getLanguage, scriptPattern, byteLevelText } from "@transllm/core";
import type { Progress } from "@transllm/core";
import type { BaseTokenizer, TokenizerFamily } from "./base-tokenizer.js";
import { learnContinuedBpe } from "./continued-bpe.js";
import type { LearnedMerge } from "./continued-bpe.js";
import { BpeEncoder } from "./bpe-encoder.js";
import { PreTokenizer } from "./pre-tokenizer.js";
import { patchPreTokenizer } from "./pretokenizer-patch.js";
import { CorpusSegmenter } from "./corpus-segmenter.js";
import { PieceType } from "./sentencepiece-model.js";
import type { SentencePiece, SentencePieceModel } from "./sentencepiece-model.js";
import { sentencePieceMerges } from "./sentencepiece-to-tokenizer-json.js";
import { formatMerges, highestTokenId } from "./tokenizer-json.js";
import type { MergesFormat, TokenizerJson } from "./tokenizer-json.js";

/** What continued BPE learned on a corpus: the ordered new tokens, before any cut to K. */
export interface ExtensionPlan {
	family: TokenizerFamily;
	lang: string;
	/** ISO 15924 script whose characters every new token contains. */
	script: string;
	/** SentencePiece family: target-script characters the base lacked, most frequent first (they come first). */
	chars: { token: string; frequency: number; line?: number }[];
	merges: LearnedMerge[];
	/** Why fewer than the requested tokens were learned, if so. */
	shortfall?: string;
	requested: number;
	patchPreTokenizer: boolean;
	/** Base tokens of the training corpus (for reports). */
	corpusTokens: number;
	corpusLines: number;
}

export interface LearnExtensionParams {
	base: BaseTokenizer;
	/** Training corpus of the target language, one text per line. */
	lines: AsyncIterable<string> | Iterable<string>;
	/** Target language code (`th`). */
	lang: string;
	/** K: how many new tokens to learn at most. */
	newTokens: number;
	/** Pairs (and missing characters) seen fewer times are not added (default 2). */
	minFrequency?: number;
	/** Opt-in: let the pre-tokenizer keep combining marks with their letters (byte-level BPE only). */
	patchPreTokenizer?: boolean;
	/**
	 * Learn on a seeded uniform sample of this many lines (spm_train's `--input_sentence_size`); 0 = every line.
	 * Thai text has few spaces, so nearly every line adds distinct pre-tokens: this bounds memory on huge corpora.
	 */
	maxLines?: number;
	seed?: string | number;
	/** Progress reporter options; silent by default. */
	progress?: { silent?: boolean; stream?: NodeJS.WritableStream };
}

/** The tokenizer.json the extension starts from: the base, with the pre-tokenizer patch when asked. */
export function startingTokenizerJson(base: BaseTokenizer, patch: boolean): TokenizerJson {
	if (!patch) return base.tokenizerJson;
	if (base.family !== "byte-level-bpe") throw new ConfigError("--patch-pretokenizer applies to byte-level BPE (Llama-3); SentencePiece BPE has no pre-tokenizer that splits words");
	return { ...base.tokenizerJson, pre_tokenizer: patchPreTokenizer(base.tokenizerJson.pre_tokenizer) };
}

/**
 * Learns the new tokens by continued BPE on the base tokenizer's own segmentation of the target corpus
 * (TransLLM extends Llama-2 with pieces learned on Thai monolingual data: `../shared/papers/000_1ce36f3811662daf.txt`
 * Sec. 3.1, App. A.1). Only merges whose new token contains a target-script character are learned, so text
 * without that script never meets a new merge and encodes exactly as before; a token already in the vocabulary
 * (or a merge already present) is never added again.
 */
export async function learnExtension(params: LearnExtensionParams): Promise<ExtensionPlan> {
	const { base } = params;
	if (!Number.isInteger(params.newTokens) || params.newTokens < 1) throw new ConfigError(`newTokens must be a positive integer, got ${params.newTokens}`);
	const minFrequency = params.minFrequency ?? 2;
	const language = getLanguage(params.lang);
	const script = language.script;
	const scriptTest = new RegExp(scriptPattern(script).source, "u");
	const patch = params.patchPreTokenizer ?? false;
	const json = startingTokenizerJson(base, patch);
	// Count the distinct pre-tokens, then segment each once with the base BPE model.
	const preTokenizer = new PreTokenizer(json, base.family);
	// Each distinct pre-token with its count and the first line holding it (the checks look for new tokens there):
	// one map to an index into two typed arrays, so the line costs 8 bytes a word, not a second map.
	const wordIndex = new Map<string, number>();
	let counts: Float64Array = new Float64Array(1 << 12);
	let firstLines: Float64Array = new Float64Array(1 << 12);
	const progress: Progress = createProgress({ label: "reading corpus", unit: "lines", silent: params.progress?.silent ?? true, stream: params.progress?.stream });
	let lineCount = 0;
	const sample = params.maxLines ? new Reservoir<[string, number]>(params.maxLines, new SeededRng(params.seed ?? 0).fork("extension-sample")) : undefined;
	const addLine = (line: string, index: number): void => {
		for (const word of preTokenizer.split(line)) {
			let at = wordIndex.get(word);
			if (at === undefined) {
				at = wordIndex.size;
				wordIndex.set(word, at);
				if (at === counts.length) {
					counts = grow(counts);
					firstLines = grow(firstLines);
				}
				firstLines[at] = index;
			} else if (sample && index < (firstLines[at] as number)) firstLines[at] = index; // a sample is counted in reservoir order
			counts[at] = (counts[at] as number) + 1;
		}
	};
	for await (const line of params.lines) {
		if (line.trim() === "") continue;
		if (sample) sample.offer([line, lineCount]);
		else addLine(line, lineCount);
		lineCount += 1;
		progress.tick();
	}
	for (const [line, index] of sample?.items ?? []) addLine(line, index);
	progress.done();
	const encoder = new BpeEncoder(json.model);
	const segmenter = new CorpusSegmenter(base.family);
	for (const [word, at] of wordIndex) {
		const tokens = encoder.encode(word);
		segmenter.add({ ids: [], tokens, wordIds: tokens.map(() => 0) }, counts[at] as number, firstLines[at] as number);
	}
	const { words, unknownChars, unknownCharLines, tokens } = segmenter.result;

	const vocab = json.model.vocab;
	const chars =
		base.family === "sentencepiece-bpe"
			? [...unknownChars.entries()]
					.filter(([char, count]) => count >= minFrequency && scriptTest.test(char) && vocab[char] === undefined)
					.sort((a, b) => b[1] - a[1])
					.slice(0, params.newTokens)
					.map(([token, frequency]) => ({ token, frequency, line: unknownCharLines.get(token) }))
			: [];
	const known = new Set(chars.map((c) => c.token));
	const learnedTokens = new Set<string>();
	const textOf = base.family === "byte-level-bpe" ? byteLevelText : (token: string) => token;
	const isCandidate = (left: string, right: string): boolean => {
		const token = left + right;
		if (vocab[token] !== undefined || learnedTokens.has(token) || encoder.hasMerge(left, right)) return false;
		if (!scriptTest.test(textOf(token))) return false;
		if (base.family === "sentencepiece-bpe") {
			// SentencePiece pieces carry ▁ only in front; a character the vocabulary lacks must be a piece first.
			if (right.startsWith("▁")) return false;
			for (const side of [left, right]) if ([...side].length === 1 && vocab[side] === undefined && !known.has(side)) return false;
		}
		return true;
	};
	const mergeBudget = params.newTokens - chars.length;
	const learnProgress = createProgress({ label: "learning merges", unit: "merges", total: mergeBudget, silent: params.progress?.silent ?? true, stream: params.progress?.stream });
	const merges =
		mergeBudget > 0
			? learnContinuedBpe(words, {
					merges: mergeBudget,
					minFrequency,
					isCandidate,
					onMerge: (merge) => {
						learnedTokens.add(merge.token);
						learnProgress.tick();
					},
				})
			: [];
	learnProgress.done();
	const learned = chars.length + merges.length;
	const shortfall =
		learned < params.newTokens
			? `learned ${learned} of ${params.newTokens} new tokens: no further ${language.englishName}-script pair occurs at least ${minFrequency} times in the ${sample ? `${sample.items.length}-line sample of the ` : ""}${lineCount}-line corpus (a larger corpus allows a larger K)`
			: undefined;
	return { family: base.family, lang: language.code, script, chars, merges, shortfall, requested: params.newTokens, patchPreTokenizer: patch, corpusTokens: tokens, corpusLines: lineCount };
}

/** The array with twice the room, contents kept. */
function grow(array: Float64Array): Float64Array {
	const bigger = new Float64Array(array.length * 2);
	bigger.set(array);
	return bigger;
}

/** A token the extension added. */
export interface NewToken {
	token: string;
	id: number;
	/** The merge that builds it (absent for a single character added as a piece). */
	merge?: [string, string];
	/** Its decomposition into base tokens (the old tokenizer's segmentation of it). */
	baseTokens: string[];
	baseIds: number[];
	frequency: number;
}

/** The extended tokenizer files, in memory. */
export interface ExtendedTokenizer {
	family: TokenizerFamily;
	tokenizerJson: TokenizerJson;
	sentencePiece?: SentencePieceModel;
	tokenizerConfig?: Record<string, unknown>;
	newTokens: NewToken[];
	specialTokens: { token: string; id: number }[];
	baseVocabSize: number;
	vocabSize: number;
}

/** Next float32 below `value` (so new SentencePiece scores stay distinct at any magnitude). */
function nextFloat32Below(value: number): number {
	const buffer = new Float32Array([value]);
	const bits = new Int32Array(buffer.buffer);
	if (value > 0) bits[0] = (bits[0] as number) - 1;
	else if (value === 0) {
		buffer[0] = -1.401298464324817e-45;
		return buffer[0] as number;
	} else bits[0] = (bits[0] as number) + 1;
	return buffer[0] as number;
}

/**
 * Builds the extended tokenizer from a plan, cut to the first `newTokens` tokens (prefix-consistent, so one plan
 * serves every K of a fertility curve). New ids follow the highest id in use; added/special tokens keep their ids.
 * SentencePiece family: tokenizer.model gets the new pieces scored below every existing score in learned
 * order, and tokenizer.json gets every split of each new piece as a merge at that rank (as the converter does);
 * byte-level family: vocab entries and the learned merges appended in the input's merges format. The special
 * tokens follow the new tokens.
 */
export function buildExtendedTokenizer(base: BaseTokenizer, plan: ExtensionPlan, options: { newTokens?: number; specialTokens?: readonly string[] } = {}): ExtendedTokenizer {
	const k = Math.min(options.newTokens ?? plan.requested, plan.chars.length + plan.merges.length);
	const start = startingTokenizerJson(base, plan.patchPreTokenizer);
	const json: TokenizerJson = { ...start, added_tokens: start.added_tokens.map((t) => ({ ...t })), model: { ...start.model, vocab: { ...start.model.vocab } } };
	const vocab = json.model.vocab;
	// The base merges are kept as they are (strings or pairs); only the new ones are formatted.
	const baseMerges = start.model.merges as unknown[];
	const format: MergesFormat = Array.isArray(baseMerges[0]) ? "pair" : "string";
	const baseVocabSize = highestTokenId(start) + 1;
	let sentencePiece: SentencePieceModel | undefined;
	if (base.sentencePiece) {
		sentencePiece = { ...base.sentencePiece, pieces: [...base.sentencePiece.pieces] };
		// tokenizer.json may hold added tokens past the model's pieces (a <pad> at 32000); the model gets a
		// user-defined piece for each so that ids stay aligned in both files.
		for (let id = sentencePiece.pieces.length; id < baseVocabSize; id++) {
			const added = start.added_tokens.find((t) => t.id === id);
			sentencePiece.pieces.push({ piece: added?.content ?? `<transllm_unused_${id}>`, score: 0, type: PieceType.USER_DEFINED });
		}
	}

	const cutChars = plan.chars.slice(0, k);
	const cutMerges = plan.merges.slice(0, k - cutChars.length);
	const entries: { token: string; merge?: [string, string]; frequency: number }[] = [
		...cutChars.map((c) => ({ token: c.token, frequency: c.frequency })),
		...cutMerges.map((m) => ({ token: m.token, merge: [m.left, m.right] as [string, string], frequency: m.frequency })),
	];
	// The Rust tokenizers library re-assigns the id of an added token that is not in the model vocabulary to
	// "model vocabulary size + n" when it loads the file, which is right only while the vocabulary is contiguous.
	// Appending ids after Llama-3's 256 reserved special tokens leaves a gap, so those tokens are entered in the
	// model vocabulary at their own ids (as Llama-2's tokenizer.json does for <unk>, <s>, </s>).
	for (const added of json.added_tokens) if (vocab[added.content] === undefined) vocab[added.content] = added.id;
	let nextId = baseVocabSize;
	const newIds = entries.map(() => nextId++);
	entries.forEach((entry, i) => {
		vocab[entry.token] = newIds[i] as number;
	});

	if (plan.family === "sentencepiece-bpe") {
		// A loop, not Math.min(...scores): spreading more than ~130k arguments overflows the stack (Gemma has 256k pieces).
		let score = 0;
		for (const piece of base.sentencePiece?.pieces ?? []) if (piece.type === PieceType.NORMAL && piece.score < score) score = piece.score;
		const pieces: SentencePiece[] = entries.map((entry) => {
			score = nextFloat32Below(score);
			return { piece: entry.token, score, type: PieceType.NORMAL };
		});
		for (const piece of pieces) sentencePiece?.pieces.push(piece);
		const vocabMap = new Map(Object.entries(vocab));
		const added = sentencePieceMerges(pieces, vocabMap);
		json.model.merges = [...baseMerges, ...formatMerges(added, format)] as TokenizerJson["model"]["merges"];
	} else {
		json.model.merges = [...baseMerges, ...formatMerges(cutMerges.map((m) => [m.left, m.right] as [string, string]), format)] as TokenizerJson["model"]["merges"];
	}

	const specialTokens: { token: string; id: number }[] = [];
	for (const token of options.specialTokens ?? []) {
		const existing = json.added_tokens.find((t) => t.content === token) ?? (vocab[token] !== undefined ? { id: vocab[token] as number } : undefined);
		if (existing) {
			specialTokens.push({ token, id: existing.id });
			continue;
		}
		const id = nextId++;
		json.added_tokens.push({ id, content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
		vocab[token] = id;
		// SentencePiece matches user-defined pieces whole in the text, as tokenizer.json matches added tokens.
		sentencePiece?.pieces.push({ piece: token, score: 0, type: PieceType.USER_DEFINED });
		specialTokens.push({ token, id });
	}

	const tokenizerConfig = base.tokenizerConfig ? updateTokenizerConfig(base.tokenizerConfig, specialTokens) : undefined;
	// One map of the learned merges for every decomposition (built per token, it made this step quadratic in K).
	const mergeOf = new Map(plan.merges.map((m) => [m.token, [m.left, m.right] as [string, string]]));
	const newTokens = entries.map((entry, i) => {
		const baseTokens = decompose(entry.token, entry.merge, mergeOf, start);
		return { token: entry.token, id: newIds[i] as number, merge: entry.merge, baseTokens, baseIds: baseTokens.map((t) => start.model.vocab[t] as number), frequency: entry.frequency };
	});
	return { family: plan.family, tokenizerJson: json, sentencePiece, tokenizerConfig, newTokens, specialTokens, baseVocabSize, vocabSize: nextId };
}

/** A new token's base tokens: its merges expanded down to base tokens; a new character to its byte pieces. */
function decompose(token: string, merge: [string, string] | undefined, byToken: ReadonlyMap<string, [string, string]>, base: TokenizerJson): string[] {
	const expand = (piece: string, via?: [string, string]): string[] => {
		if (base.model.vocab[piece] !== undefined) return [piece];
		const parts = via ?? byToken.get(piece);
		if (parts) return [...expand(parts[0]), ...expand(parts[1])];
		// A character the SentencePiece vocabulary lacked: its byte-fallback pieces.
		return Array.from(new TextEncoder().encode(piece), (b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
	};
	return expand(token, merge);
}

/**
 * tokenizer_config.json with the special tokens in added_tokens_decoder and additional_special_tokens, and
 * `tokenizer_class: PreTrainedTokenizerFast`: with Llama-2's `LlamaTokenizer`(Fast) class, transformers 5 rebuilds
 * the pipeline from the vocabulary and ignores tokenizer.json's normalizer and pre-tokenizer, so training would
 * tokenize indented code, `[INST]` prompts and TCOT marker lines differently from tokenizer.json (the runtime).
 */
function updateTokenizerConfig(config: Record<string, unknown>, specialTokens: readonly { token: string; id: number }[]): Record<string, unknown> {
	const next: Record<string, unknown> = { ...config, tokenizer_class: "PreTrainedTokenizerFast" };
	if (specialTokens.length === 0) return next;
	if (typeof config.added_tokens_decoder === "object" && config.added_tokens_decoder !== null) {
		const decoder = { ...(config.added_tokens_decoder as Record<string, unknown>) };
		for (const { token, id } of specialTokens) {
			decoder[String(id)] ??= { content: token, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
		}
		next.added_tokens_decoder = decoder;
	}
	const additional = Array.isArray(config.additional_special_tokens) ? [...(config.additional_special_tokens as unknown[])] : [];
	for (const { token } of specialTokens) if (!additional.includes(token)) additional.push(token);
	next.additional_special_tokens = additional;
	return next;
}
