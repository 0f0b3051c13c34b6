import { Completions, ConfigError, readJsonFile } from "@transllm/core";
import { layout, signatureCompatible } from "./dedup-config.js";
import type { DedupConfig } from "./dedup-config.js";
import { signaturesMarker } from "./stage-signatures.js";
import type { SignaturesDone } from "./stage-signatures.js";

/** One signatures-stage rank as a block of global document numbers. */
export interface DocSource {
	dir: string;
	rank: number;
	documents: number;
	/** Global number of its first document. */
	offset: number;
	/** A document of an earlier run (`against`): matched against, never removed. */
	reference: boolean;
}

async function ranksOf(dir: string, config: DedupConfig, reference: boolean, offset: number): Promise<DocSource[]> {
	const completions = new Completions(dir);
	const sources: DocSource[] = [];
	const missing: number[] = [];
	let at = offset;
	for (let rank = 0; rank < config.signatureWorldSize; rank++) {
		const done = await completions.read<SignaturesDone>(signaturesMarker(rank));
		if (!done) {
			missing.push(rank);
			continue;
		}
		sources.push({ dir, rank, documents: done.documents, offset: at, reference });
		at += done.documents;
	}
	if (missing.length > 0) {
		throw new ConfigError(`${dir}: the signatures stage has not finished for rank(s) ${missing.join(", ")} of ${config.signatureWorldSize}; run them first (--stage signatures --rank r)`);
	}
	return sources;
}

/**
 * The global document table: the documents of `against` runs first (so they win under `keep: first`), then
 * this run's signature ranks in order. Global number = source offset + local number.
 */
export async function listSources(outDir: string, config: DedupConfig): Promise<DocSource[]> {
	const sources: DocSource[] = [];
	let offset = 0;
	for (const dir of config.against) {
		let other: DedupConfig;
		try {
			other = await readJsonFile<DedupConfig>(layout.config(dir));
		} catch (error) {
			throw new ConfigError(`--against ${dir}: not a dedup output directory (${(error as Error).message})`);
		}
		if (!signatureCompatible(config, other)) {
			throw new ConfigError(`--against ${dir}: its signatures were made with other parameters (numPerm, ngram, unit, scheme, seed, bands, rows must match)`);
		}
		if (config.verify === "exact" && other.verify !== "exact") throw new ConfigError(`--against ${dir}: exact verification needs the shingle sets, which that run did not keep`);
		const block = await ranksOf(dir, other, true, offset);
		sources.push(...block);
		offset += block.reduce((sum, source) => sum + source.documents, 0);
	}
	sources.push(...(await ranksOf(outDir, config, false, offset)));
	return sources;
}

/** The source holding global document `doc` (binary search). */
export function sourceOf(sources: readonly DocSource[], doc: number): DocSource {
	let low = 0;
	let high = sources.length - 1;
	while (low < high) {
		const mid = (low + high + 1) >> 1;
		if ((sources[mid] as DocSource).offset <= doc) low = mid;
		else high = mid - 1;
	}
	return sources[low] as DocSource;
}
