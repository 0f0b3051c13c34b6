import { ConfigError, RejectsWriter, assertSameSettings, createProgress, readJsonl, readRunSettings, writeJsonAtomic, writeJsonlStream } from "@transllm/core";
import type { BadRecordPolicy } from "@transllm/core";
import type { CodeSwitchPairsOptions } from "./code-switch.js";
import { codeSwitchPairs } from "./code-switch.js";
import type { CorpusPair } from "./document.js";
import type { LayoutOptions } from "./llamax-layout.js";
import { countLanguagePairs, languagePairKey, layoutParallel } from "./llamax-layout.js";
import type { BilingualDictionary } from "./multilingual-lexicon.js";
import { MultilingualLexicon } from "./multilingual-lexicon.js";
import type { ReadPairsParams } from "./read-pairs.js";
import { readPairs } from "./read-pairs.js";

export interface AugmentParallelParams {
	/** The parallel pairs to augment. */
	read: Omit<ReadPairsParams, "onBadRecord" | "rejects">;
	/** Bilingual dictionaries of the multilingual lexicon. */
	dictionaries: readonly BilingualDictionary[];
	/** Rate, hops, languages, lower-casing, directions and the seed of the code-switching. */
	codeSwitch: CodeSwitchPairsOptions;
	/** Pseudo-parallel pairs (`AugmentedPair` per line). */
	out: string;
	/** Also write LLaMAX's layout of the original and the augmented pairs here. */
	layoutOut?: string;
	layout?: Omit<LayoutOptions, "seed">;
	/**
	 * Augment only language pairs with fewer pairs than this (LLaMAX Algorithm 1 augments the directions under
	 * 25,000 pairs: "there is no augmentation for translations involving high-resource languages", Sec. 2.2).
	 * Default: every pair.
	 */
	augmentBelow?: number;
	onBadRecord?: BadRecordPolicy;
	/** Keep finished outputs and continue unfinished ones. */
	resume?: boolean;
	/** Replace outputs that exist. */
	force?: boolean;
	silent?: boolean;
}

export interface AugmentSummary {
	pairs: number;
	augmented: number;
	replacedWords: number;
	lexicon: { entities: number; entries: number; languages: string[] };
	layoutRecords?: number;
	/** Unreadable input lines set aside in `<out>.rejects.jsonl` (`onBadRecord: "skip"`). */
	rejected: number;
}

/**
 * LLaMAX's dictionary augmentation end to end (`../shared/papers/002_b49e5c8fa0bdac53.txt` Sec. 2.1, Fig. 2):
 * bilingual dictionaries → multilingual lexicon → code-switched pseudo-parallel pairs, and optionally the
 * continual pre-training layout of originals plus augmented pairs. The input is read once for the pairs and,
 * with a layout, once more (counts first, so that low-resource replication is decided before writing).
 */
export async function augmentParallel(params: AugmentParallelParams): Promise<AugmentSummary> {
	if (params.resume && params.force) throw new ConfigError("--resume and --force exclude each other");
	// What decides the outputs, kept beside them: resuming with other settings would splice two runs into one file.
	const configPath = `${params.out}.config.json`;
	const config = JSON.parse(
		JSON.stringify({ read: params.read, dictionaries: params.dictionaries, codeSwitch: params.codeSwitch, augmentBelow: params.augmentBelow, layoutOut: params.layoutOut, layout: params.layout }),
	) as object;
	if (params.resume) assertSameSettings(await readRunSettings(configPath), config, { output: params.out });
	const lexicon = await MultilingualLexicon.fromDictionaries(params.dictionaries);
	const write = { resume: params.resume, overwrite: params.force };
	const policy = params.onBadRecord ?? "error";
	// Bad lines go to `<out>.rejects.jsonl`; later passes over the same input find them there and add nothing.
	let rejected = 0;
	const pairs = async function* (rejectsResume: boolean): AsyncGenerator<CorpusPair> {
		const rejects = policy === "skip" ? await RejectsWriter.open(params.out, { resume: rejectsResume }) : undefined;
		try {
			yield* readPairs({ ...params.read, onBadRecord: policy, rejects });
		} finally {
			await rejects?.close();
			rejected = rejects?.count ?? 0;
		}
	};
	if (params.augmentBelow !== undefined && !(Number.isInteger(params.augmentBelow) && params.augmentBelow >= 0)) {
		throw new ConfigError(`augmentBelow must be an integer ≥ 0, got ${params.augmentBelow}`);
	}
	let readBefore = false;
	let counts: Map<string, number> | undefined;
	const countsOf = async (): Promise<Map<string, number>> => {
		counts ??= await countLanguagePairs(pairs(params.resume === true || readBefore));
		readBefore = true;
		return counts;
	};
	const below = params.augmentBelow;
	const lowResource = below === undefined ? undefined : await countsOf();
	const progress = createProgress({ label: "augment", unit: "pairs", silent: params.silent });
	let count = 0;
	let replacedWords = 0;
	const counted = (async function* () {
		for await (const pair of pairs(params.resume === true || readBefore)) {
			count += 1;
			progress.tick();
			if (lowResource && (lowResource.get(languagePairKey(pair)) ?? 0) >= (below as number)) continue;
			yield pair;
		}
	})();
	const augmented = (async function* () {
		// Reached once the writer has opened `out` (refusals come first), so a refused run leaves the config alone.
		await writeJsonAtomic(configPath, config);
		for await (const pair of codeSwitchPairs(counted, lexicon, params.codeSwitch)) {
			replacedWords += pair.replacements.length;
			yield { id: pair.id, sourceLang: pair.sourceLang, targetLang: pair.targetLang, source: pair.source, target: pair.target, replacements: pair.replacements };
		}
	})();
	let written: number;
	try {
		written = await writeJsonlStream(params.out, augmented, write);
		// A finished output is not read again by the writer: run the (seeded, deterministic) augmentation anyway
		// so that a resumed run reports the same counts as an uninterrupted one.
		for await (const _ of augmented);
	} finally {
		progress.done();
	}
	readBefore = true;
	let layoutRecords: number | undefined;
	if (params.layoutOut !== undefined) {
		const counts = await countsOf();
		const out = params.out;
		const all = (async function* () {
			yield* pairs(true);
			for await (const { value, file, line } of readJsonl<Omit<CorpusPair, "file" | "line">>(out)) yield { ...value, file, line, augmented: true };
		})();
		layoutRecords = await writeJsonlStream(params.layoutOut, layoutParallel(all, counts, { ...params.layout, seed: `${String(params.codeSwitch.seed)}/layout` }), write);
	}
	return {
		pairs: count,
		augmented: written,
		replacedWords,
		lexicon: { entities: lexicon.size, entries: lexicon.entries, languages: lexicon.languages() },
		...(layoutRecords !== undefined ? { layoutRecords } : {}),
		rejected,
	};
}
