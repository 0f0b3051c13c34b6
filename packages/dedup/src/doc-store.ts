import { closeSync, createReadStream, openSync } from "node:fs";
import { createInterface } from "node:readline";
import { readExactly } from "./binary-file.js";
import { DOC_RECORD_BYTES, layout } from "./dedup-config.js";
import type { DocSource } from "./doc-sources.js";
import { exactJaccard, estimateJaccard } from "./minhash-signature.js";
import { SignatureReader } from "./signature-file.js";
import { sourceOf } from "./doc-sources.js";

/**
 * Random access to what the signatures stage stored about every document of every source (signatures,
 * shingle sets), for candidate verification. Files are read with pread, never loaded whole.
 */
export class DocStore {
	private readonly signatures: SignatureReader[];
	private readonly shingleFiles: { bin: number; idx: number; binPath: string; idxPath: string }[] | undefined;
	private readonly a: Uint32Array;
	private readonly b: Uint32Array;
	private readonly offsets = new Float64Array(2);

	constructor(
		readonly sources: readonly DocSource[],
		readonly numPerm: number,
		exact: boolean,
	) {
		this.signatures = sources.map((source) => new SignatureReader(layout.signatures(source.dir, source.rank)));
		this.shingleFiles = exact
			? sources.map((source) => {
					const binPath = layout.shingles(source.dir, source.rank);
					const idxPath = layout.shingleIndex(source.dir, source.rank);
					return { bin: openSync(binPath, "r"), idx: openSync(idxPath, "r"), binPath, idxPath };
				})
			: undefined;
		this.a = new Uint32Array(numPerm);
		this.b = new Uint32Array(numPerm);
	}

	private readSignature(doc: number, target: Uint32Array): void {
		const index = this.sources.indexOf(sourceOf(this.sources, doc));
		this.signatures[index]?.read(doc - (this.sources[index] as DocSource).offset, target);
	}

	/** The sorted distinct shingle hashes of a document (exact mode). */
	shingleSet(doc: number): Uint32Array {
		const source = sourceOf(this.sources, doc);
		const files = this.shingleFiles?.[this.sources.indexOf(source)];
		if (!files) throw new Error("shingle sets were not kept (verify: signature)");
		const local = doc - source.offset;
		readExactly(files.idx, new Uint8Array(this.offsets.buffer), local * 8, files.idxPath);
		const start = this.offsets[0] as number;
		const set = new Uint32Array((this.offsets[1] as number) - start);
		readExactly(files.bin, new Uint8Array(set.buffer), start * 4, files.binPath);
		return set;
	}

	/** Estimated Jaccard similarity of two documents from their signatures. */
	estimated(docA: number, docB: number): number {
		this.readSignature(docA, this.a);
		this.readSignature(docB, this.b);
		return estimateJaccard(this.a, this.b, 0, 0, this.numPerm);
	}

	/** Exact Jaccard similarity of two documents' shingle sets. */
	exact(docA: number, docB: number): number {
		return exactJaccard(this.shingleSet(docA), this.shingleSet(docB));
	}

	close(): void {
		for (const reader of this.signatures) reader.close();
		for (const files of this.shingleFiles ?? []) {
			closeSync(files.bin);
			closeSync(files.idx);
		}
	}
}

/** Keep priorities of every document (reference documents get +∞: an earlier run's document always wins). */
export function readPriorities(sources: readonly DocSource[], total: number): Float64Array {
	const priorities = new Float64Array(total);
	const chunk = new Uint8Array(DOC_RECORD_BYTES * 65536);
	const view = new DataView(chunk.buffer);
	for (const source of sources) {
		if (source.reference) {
			priorities.fill(Number.POSITIVE_INFINITY, source.offset, source.offset + source.documents);
			continue;
		}
		const path = layout.docs(source.dir, source.rank);
		const fd = openSync(path, "r");
		try {
			for (let start = 0; start < source.documents; start += 65536) {
				const n = Math.min(65536, source.documents - start);
				readExactly(fd, chunk.subarray(0, n * DOC_RECORD_BYTES), start * DOC_RECORD_BYTES, path);
				for (let i = 0; i < n; i++) priorities[source.offset + start + i] = view.getFloat64(i * DOC_RECORD_BYTES, true);
			}
		} finally {
			closeSync(fd);
		}
	}
	return priorities;
}

/** The ids of the wanted global documents, read by streaming each source's ids file. */
export async function readIds(sources: readonly DocSource[], wanted: ReadonlySet<number>): Promise<Map<number, string>> {
	const ids = new Map<number, string>();
	for (const source of sources) {
		let doc = source.offset;
		let needed = false;
		for (const w of wanted) if (w >= source.offset && w < source.offset + source.documents) needed = true;
		if (!needed) continue;
		const lines = createInterface({ input: createReadStream(layout.ids(source.dir, source.rank)), crlfDelay: Number.POSITIVE_INFINITY });
		for await (const line of lines) {
			if (wanted.has(doc)) ids.set(doc, JSON.parse(line) as string);
			doc += 1;
		}
	}
	return ids;
}
