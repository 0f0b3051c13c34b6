import { SeededRng } from "@transllm/core";
import { finalMix32 } from "./murmur3.js";

/**
 * How a signature is computed from shingle hashes:
 * - `oph` (default): one-permutation hashing with optimal densification (Li et al. 2012; Shrivastava 2017):
 *   each shingle hash falls in one of `numPerm` equal ranges of the 32-bit space and each range keeps its
 *   minimum; empty ranges borrow from a non-empty one chosen by a fixed hash sequence. O(shingles + numPerm).
 * - `kperm`: classic MinHash with `numPerm` permutations h_i(x) = (a_i·x + b_i) mod (2^31 − 1), computed
 *   exactly in doubles with the Mersenne-prime fold. O(shingles × numPerm).
 */
export type SignatureScheme = "oph" | "kperm";

export interface MinHasherOptions {
	/** Signature length (default 128). */
	numPerm?: number;
	/** Default `oph` (measured ~10× faster than `kperm` at equal accuracy; see the README). */
	scheme?: SignatureScheme;
	/** Seed of the permutations / densification sequence (default 1). */
	seed?: number;
}

/** The value of an empty signature slot (a document without shingles). */
export const EMPTY_SLOT = 0xffffffff;
const MERSENNE_31 = 2147483647;
const TWO_31 = 2147483648;

/** Computes MinHash signatures (`Uint32Array` slots) from 32-bit shingle hashes. Reuse one per thread. */
export class MinHasher {
	readonly numPerm: number;
	readonly scheme: SignatureScheme;
	readonly seed: number;
	private readonly a16: Float64Array;
	private readonly a: Float64Array;
	private readonly b: Float64Array;
	private readonly mins: Float64Array;
	private readonly filled: Uint8Array;

	constructor(options: MinHasherOptions = {}) {
		this.numPerm = options.numPerm ?? 128;
		this.scheme = options.scheme ?? "oph";
		this.seed = options.seed ?? 1;
		if (!Number.isInteger(this.numPerm) || this.numPerm < 2 || this.numPerm > 4096) {
			throw new RangeError(`numPerm must be an integer in [2, 4096], got ${this.numPerm}`);
		}
		const rng = new SeededRng(`minhash/${this.seed}`);
		this.a = new Float64Array(this.numPerm);
		this.b = new Float64Array(this.numPerm);
		this.a16 = new Float64Array(this.numPerm);
		for (let i = 0; i < this.numPerm; i++) {
			const a = 1 + rng.int(MERSENNE_31 - 1);
			this.a[i] = a;
			this.b[i] = rng.int(MERSENNE_31);
			this.a16[i] = (a * 65536) % MERSENNE_31; // exact: a·2^16 < 2^47
		}
		this.mins = new Float64Array(this.numPerm);
		this.filled = new Uint8Array(this.numPerm);
	}

	/** Writes the signature of `hashes[0, count)` to `out[offset, offset + numPerm)`. */
	signature(hashes: Uint32Array, count: number, out: Uint32Array, offset = 0): void {
		if (count === 0) {
			out.fill(EMPTY_SLOT, offset, offset + this.numPerm);
			return;
		}
		if (this.scheme === "oph") this.onePermutation(hashes, count, out, offset);
		else this.permutations(hashes, count, out, offset);
	}

	private permutations(hashes: Uint32Array, count: number, out: Uint32Array, offset: number): void {
		const k = this.numPerm;
		const { a, a16, b, mins } = this;
		mins.fill(TWO_31);
		for (let s = 0; s < count; s++) {
			let x = hashes[s] as number;
			x = (x & MERSENNE_31) + (x >>> 31); // x mod (2^31 − 1), up to one subtraction
			if (x >= MERSENNE_31) x -= MERSENNE_31;
			const high = x >>> 16;
			const low = x & 0xffff;
			for (let i = 0; i < k; i++) {
				// a·x + b = (a·2^16 mod p)·high + a·low + b < 2^48: exact in a double; 2^31 ≡ 1 (mod p).
				const sum = (a16[i] as number) * high + (a[i] as number) * low + (b[i] as number);
				const q = Math.floor(sum / TWO_31);
				let r = sum - q * MERSENNE_31;
				if (r >= MERSENNE_31) r -= MERSENNE_31;
				if (r < (mins[i] as number)) mins[i] = r;
			}
		}
		for (let i = 0; i < k; i++) out[offset + i] = mins[i] as number;
	}

	private onePermutation(hashes: Uint32Array, count: number, out: Uint32Array, offset: number): void {
		const k = this.numPerm;
		const filled = this.filled;
		filled.fill(0);
		out.fill(EMPTY_SLOT, offset, offset + k);
		let nonEmpty = 0;
		for (let s = 0; s < count; s++) {
			const h = hashes[s] as number;
			const bin = Math.floor((h * k) / 4294967296);
			const slot = offset + bin;
			if (filled[bin] === 0) {
				filled[bin] = 1;
				nonEmpty += 1;
				out[slot] = h;
			} else if (h < (out[slot] as number)) out[slot] = h;
		}
		if (nonEmpty === k) return;
		// Optimal densification (Shrivastava 2017, Alg. 1): an empty bin j probes bins by a hash of (j, attempt)
		// that does not depend on the document, so two documents with the same non-empty bins borrow alike.
		for (let j = 0; j < k; j++) {
			if (filled[j] === 1) continue;
			for (let attempt = 1; ; attempt++) {
				const probe = Math.floor((finalMix32((Math.imul(j + 1, 0x9e3779b1) ^ Math.imul(attempt, 0x85ebca77) ^ this.seed) >>> 0) * k) / 4294967296);
				if (filled[probe] === 1) {
					out[offset + j] = out[offset + probe] as number;
					break;
				}
			}
		}
	}
}

/** Estimated Jaccard similarity: the fraction of equal slots of two signatures. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array, aOffset = 0, bOffset = 0, numPerm = a.length - aOffset): number {
	let equal = 0;
	for (let i = 0; i < numPerm; i++) if (a[aOffset + i] === b[bOffset + i]) equal += 1;
	return equal / numPerm;
}

/** Exact Jaccard similarity of two sorted, distinct hash sets. */
export function exactJaccard(a: Uint32Array, b: Uint32Array): number {
	if (a.length === 0 && b.length === 0) return 1;
	let i = 0;
	let j = 0;
	let shared = 0;
	while (i < a.length && j < b.length) {
		const x = a[i] as number;
		const y = b[j] as number;
		if (x === y) {
			shared += 1;
			i += 1;
			j += 1;
		} else if (x < y) i += 1;
		else j += 1;
	}
	return shared / (a.length + b.length - shared);
}
