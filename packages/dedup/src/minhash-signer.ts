import { MinHasher } from "./minhash-signature.js";
import type { MinHasherOptions } from "./minhash-signature.js";
import { Shingler } from "./shingle-hashes.js";
import type { ShinglerOptions } from "./shingle-hashes.js";

/** Text → MinHash signature in one call (normalise, shingle, sign), for the index API. */
export class MinHashSigner {
	private readonly shingler: Shingler;
	private readonly minHasher: MinHasher;

	constructor(options: ShinglerOptions & MinHasherOptions = {}) {
		this.shingler = new Shingler(options);
		this.minHasher = new MinHasher(options);
	}

	/** The signature of `text`, or undefined when it is shorter than one shingle (such documents are kept). */
	sign(text: string): Uint32Array | undefined {
		const { shingles } = this.shingler.shingle(text);
		if (shingles === 0) return undefined;
		const signature = new Uint32Array(this.minHasher.numPerm);
		this.minHasher.signature(this.shingler.hashes, shingles, signature);
		return signature;
	}
}
