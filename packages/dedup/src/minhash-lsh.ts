import { readFile } from "node:fs/promises";
import { ConfigError, TransllmError, writeFileAtomic } from "@transllm/core";
import { bandKey } from "./document-hasher.js";
import { planBands } from "./lsh-plan.js";
import { estimateJaccard } from "./minhash-signature.js";

export interface MinHashLSHOptions {
	/** Jaccard threshold a query result must reach (estimated from the signatures; default 0.8). */
	threshold?: number;
	/** Signature length (default 128). */
	numPerm?: number;
	/** Bands and rows (default: planBands with the given falseNegativeWeight, default 0.98). */
	bands?: number;
	rows?: number;
	falseNegativeWeight?: number;
}

export interface LshMatch {
	id: string;
	/** Estimated Jaccard similarity. */
	similarity: number;
}

const INDEX_MAGIC = "TLMI";
const INDEX_VERSION = 1;

/**
 * An in-memory MinHash LSH index (the datasketch `MinHashLSH` API, with verification): insert, query, remove,
 * save/load (versioned binary), and merge of shard indexes. For incremental runs: load the index of an old
 * crawl, query each new document, insert the ones that are new. Corpora whose signatures exceed memory use
 * `runDedup` (out of core) instead, with `against` for incremental runs.
 */
export class MinHashLSH {
	readonly threshold: number;
	readonly numPerm: number;
	readonly bands: number;
	readonly rows: number;
	private readonly ids: (string | undefined)[] = [];
	/** All signatures, packed: slot i at [i·numPerm, (i+1)·numPerm). Grows by doubling. */
	private signatures: Uint32Array;
	private readonly slots = new Map<string, number>();
	/** Per band: key → one slot (the common case, no array) or several. */
	private readonly tables: Map<number, number | number[]>[];
	private readonly key = new Uint32Array(2);

	constructor(options: MinHashLSHOptions = {}) {
		this.threshold = options.threshold ?? 0.8;
		this.numPerm = options.numPerm ?? 128;
		if (options.bands !== undefined && options.rows !== undefined) {
			this.bands = options.bands;
			this.rows = options.rows;
		} else {
			const plan = planBands({ threshold: this.threshold, numPerm: this.numPerm, falseNegativeWeight: options.falseNegativeWeight ?? 0.98 });
			this.bands = plan.bands;
			this.rows = plan.rows;
		}
		if (this.bands * this.rows > this.numPerm) throw new ConfigError(`bands × rows (${this.bands} × ${this.rows}) exceeds numPerm ${this.numPerm}`);
		this.tables = Array.from({ length: this.bands }, () => new Map<number, number | number[]>());
		this.signatures = new Uint32Array(this.numPerm * 64);
	}

	/** Documents in the index. */
	get size(): number {
		return this.slots.size;
	}

	has(id: string): boolean {
		return this.slots.has(id);
	}

	private bucketKey(signature: Uint32Array, band: number): number {
		bandKey(signature, 0, band, this.rows, this.key, 0);
		return ((this.key[0] as number) & 0x1fffff) * 4294967296 + (this.key[1] as number);
	}

	private check(signature: Uint32Array): void {
		if (signature.length !== this.numPerm) throw new ConfigError(`signature has ${signature.length} slots; this index uses numPerm ${this.numPerm}`);
	}

	insert(id: string, signature: Uint32Array): void {
		this.check(signature);
		if (this.slots.has(id)) throw new ConfigError(`id "${id}" is already in the index`);
		const slot = this.ids.length;
		this.ids.push(id);
		if ((slot + 1) * this.numPerm > this.signatures.length) {
			const grown = new Uint32Array(this.signatures.length * 2);
			grown.set(this.signatures);
			this.signatures = grown;
		}
		this.signatures.set(signature, slot * this.numPerm);
		this.slots.set(id, slot);
		for (let band = 0; band < this.bands; band++) {
			const table = this.tables[band] as Map<number, number | number[]>;
			const key = this.bucketKey(signature, band);
			const bucket = table.get(key);
			if (bucket === undefined) table.set(key, slot);
			else if (typeof bucket === "number") table.set(key, [bucket, slot]);
			else bucket.push(slot);
		}
	}

	private signatureOf(slot: number): Uint32Array {
		return this.signatures.subarray(slot * this.numPerm, (slot + 1) * this.numPerm);
	}

	/** Ids sharing at least one band with `signature` (unverified candidates). Unseen bands are simply empty. */
	candidates(signature: Uint32Array): string[] {
		this.check(signature);
		const found = new Set<number>();
		for (let band = 0; band < this.bands; band++) {
			const bucket = this.tables[band]?.get(this.bucketKey(signature, band));
			if (typeof bucket === "number") found.add(bucket);
			else for (const slot of bucket ?? []) found.add(slot);
		}
		return [...found].flatMap((slot) => (this.ids[slot] === undefined ? [] : [this.ids[slot] as string]));
	}

	/** Verified matches: candidates whose estimated Jaccard similarity reaches the threshold, best first. */
	query(signature: Uint32Array): LshMatch[] {
		const matches: LshMatch[] = [];
		for (const id of this.candidates(signature)) {
			const similarity = estimateJaccard(signature, this.signatureOf(this.slots.get(id) as number));
			if (similarity >= this.threshold) matches.push({ id, similarity });
		}
		return matches.sort((a, b) => b.similarity - a.similarity);
	}

	remove(id: string): boolean {
		const slot = this.slots.get(id);
		if (slot === undefined) return false;
		const signature = this.signatureOf(slot);
		for (let band = 0; band < this.bands; band++) {
			const table = this.tables[band] as Map<number, number | number[]>;
			const key = this.bucketKey(signature, band);
			const bucket = table.get(key);
			const rest = typeof bucket === "number" ? [] : (bucket ?? []).filter((other) => other !== slot);
			if (rest.length === 0) table.delete(key);
			else table.set(key, rest.length === 1 ? (rest[0] as number) : rest);
		}
		this.ids[slot] = undefined;
		this.slots.delete(id);
		return true;
	}

	/** Adds every document of another index with the same parameters (shard indexes built in parallel). */
	merge(other: MinHashLSH): void {
		if (other.numPerm !== this.numPerm || other.bands !== this.bands || other.rows !== this.rows) {
			throw new ConfigError(`cannot merge an index with numPerm/bands/rows ${other.numPerm}/${other.bands}/${other.rows} into ${this.numPerm}/${this.bands}/${this.rows}`);
		}
		for (const [id, slot] of other.slots) this.insert(id, other.signatureOf(slot));
	}

	/**
	 * Saves atomically: `TLMI`, uint16 version, uint32 header length, a JSON header (threshold, numPerm, bands,
	 * rows, ids), then every signature as numPerm little-endian uint32.
	 */
	async save(path: string): Promise<void> {
		const live = [...this.slots.entries()];
		const header = Buffer.from(JSON.stringify({ threshold: this.threshold, numPerm: this.numPerm, bands: this.bands, rows: this.rows, ids: live.map(([id]) => id) }), "utf8");
		const prefix = Buffer.alloc(10);
		prefix.write(INDEX_MAGIC, 0, "latin1");
		prefix.writeUInt16LE(INDEX_VERSION, 4);
		prefix.writeUInt32LE(header.length, 6);
		const body = new Uint32Array(live.length * this.numPerm);
		live.forEach(([, slot], i) => body.set(this.signatureOf(slot), i * this.numPerm));
		await writeFileAtomic(path, Buffer.concat([prefix, header, Buffer.from(body.buffer)]));
	}

	static async load(path: string): Promise<MinHashLSH> {
		const data = await readFile(path);
		if (data.length < 10 || data.toString("latin1", 0, 4) !== INDEX_MAGIC) throw new TransllmError("E_FORMAT", `${path}: not a transllm MinHash LSH index`);
		const version = data.readUInt16LE(4);
		if (version !== INDEX_VERSION) throw new TransllmError("E_FORMAT", `${path}: index format version ${version}; this transllm reads version ${INDEX_VERSION}`);
		const headerLength = data.readUInt32LE(6);
		const start = 10 + headerLength;
		let header: { threshold: number; numPerm: number; bands: number; rows: number; ids: string[] };
		try {
			if (start > data.length) throw new Error(`header of ${headerLength} bytes runs past the end of the file`);
			header = JSON.parse(data.toString("utf8", 10, start)) as typeof header;
		} catch (error) {
			throw new TransllmError("E_FORMAT", `${path}: corrupt index header (${(error as Error).message})`);
		}
		const index = new MinHashLSH(header);
		// A whole number of slots, checked before the Uint32Array view (which would throw a bare RangeError).
		const slots = (data.length - start) / 4;
		if (slots !== header.ids.length * header.numPerm) throw new TransllmError("E_FORMAT", `${path}: truncated index (${slots} slots for ${header.ids.length} documents)`);
		const body = new Uint32Array(data.buffer.slice(data.byteOffset + start, data.byteOffset + data.length));
		header.ids.forEach((id, i) => index.insert(id, body.subarray(i * header.numPerm, (i + 1) * header.numPerm)));
		return index;
	}
}
