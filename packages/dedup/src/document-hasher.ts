import { MinHasher } from "./minhash-signature.js";
import type { SignatureScheme } from "./minhash-signature.js";
import { murmur3Words } from "./murmur3.js";
import { Shingler, uniqueSorted } from "./shingle-hashes.js";
import type { ShingleUnit } from "./shingle-hashes.js";

/** Everything that turns a text into its signature and band keys (plain data: it is sent to workers). */
export interface HasherConfig {
	numPerm: number;
	ngram: number;
	unit: ShingleUnit;
	scheme: SignatureScheme;
	seed: number;
	lang?: string;
	bands: number;
	rows: number;
	/** Also return each document's sorted distinct shingle hashes (for exact Jaccard verification). */
	keepShingles: boolean;
}

/** The hashes of a batch of documents, in typed arrays that transfer between threads without copying. */
export interface HashedBatch {
	count: number;
	/** count × numPerm slots. */
	signatures: Uint32Array;
	/** count × bands × 2 words: the 64-bit key (high, low) of every band. */
	bandKeys: Uint32Array;
	/** Shingles per document (0: shorter than one shingle). */
	shingles: Uint32Array;
	/** Words (or code points) per document after normalisation (0: empty). */
	units: Uint32Array;
	/** With keepShingles: the distinct sorted shingle hashes of every document, concatenated. */
	sets?: Uint32Array;
	/** With keepShingles: count + 1 offsets into `sets`. */
	setOffsets?: Uint32Array;
}

/** The 64-bit key of band `band` of a signature: two seeded MurmurHash3s of its `rows` slots. */
export function bandKey(signature: Uint32Array, offset: number, band: number, rows: number, out: Uint32Array, outOffset: number): void {
	const start = offset + band * rows;
	out[outOffset] = murmur3Words(signature, start, rows, 0x9747b28c ^ band);
	out[outOffset + 1] = murmur3Words(signature, start, rows, 0x5bd1e995 + band);
}

/** Shingles, signs and bands documents; one per thread (the worker and the in-process path share it). */
export class DocumentHasher {
	readonly config: HasherConfig;
	private readonly shingler: Shingler;
	private readonly minHasher: MinHasher;

	constructor(config: HasherConfig) {
		if (config.bands * config.rows > config.numPerm) throw new RangeError(`bands × rows (${config.bands} × ${config.rows}) exceeds numPerm ${config.numPerm}`);
		this.config = config;
		this.shingler = new Shingler({ ngram: config.ngram, unit: config.unit, lang: config.lang, seed: config.seed });
		this.minHasher = new MinHasher({ numPerm: config.numPerm, scheme: config.scheme, seed: config.seed });
	}

	hashBatch(texts: readonly string[]): HashedBatch {
		const { numPerm, bands, rows, keepShingles } = this.config;
		const count = texts.length;
		const signatures = new Uint32Array(count * numPerm);
		const bandKeys = new Uint32Array(count * bands * 2);
		const shingles = new Uint32Array(count);
		const units = new Uint32Array(count);
		const setOffsets = keepShingles ? new Uint32Array(count + 1) : undefined;
		const setParts: Uint32Array[] = [];
		let setTotal = 0;
		for (let d = 0; d < count; d++) {
			const result = this.shingler.shingle(texts[d] as string);
			let n = result.shingles;
			if (keepShingles && n > 0) {
				n = uniqueSorted(this.shingler.hashes, n);
				setParts.push(this.shingler.hashes.slice(0, n));
				setTotal += n;
			}
			if (setOffsets) setOffsets[d + 1] = setTotal;
			shingles[d] = n;
			units[d] = result.units;
			this.minHasher.signature(this.shingler.hashes, n, signatures, d * numPerm);
			for (let b = 0; b < bands; b++) bandKey(signatures, d * numPerm, b, rows, bandKeys, (d * bands + b) * 2);
		}
		const batch: HashedBatch = { count, signatures, bandKeys, shingles, units };
		if (keepShingles && setOffsets) {
			const sets = new Uint32Array(setTotal);
			let at = 0;
			for (const part of setParts) {
				sets.set(part, at);
				at += part.length;
			}
			batch.sets = sets;
			batch.setOffsets = setOffsets;
		}
		return batch;
	}
}
