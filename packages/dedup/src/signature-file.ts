import { closeSync, openSync } from "node:fs";
import { TransllmError } from "@transllm/core";
import { readExactly } from "./binary-file.js";
import type { SignatureScheme } from "./minhash-signature.js";
import type { ShingleUnit } from "./shingle-hashes.js";

/** The parameters that make two signatures comparable; stored in every signature file's header. */
export interface SignatureParams {
	numPerm: number;
	ngram: number;
	seed: number;
	scheme: SignatureScheme;
	unit: ShingleUnit;
}

/**
 * Signature file, version 1 (little-endian): a 64-byte header, then one record of `numPerm` uint32 slots per
 * document, in document order.
 *
 * | bytes | field |
 * | 0–3 | magic `TLMH` |
 * | 4–5 | uint16 format version (1) |
 * | 6–7 | uint16 header length (64) |
 * | 8–11 | uint32 numPerm |
 * | 12–15 | uint32 ngram |
 * | 16–19 | uint32 seed |
 * | 20 | uint8 scheme (0 oph, 1 kperm) |
 * | 21 | uint8 unit (0 word, 1 char, 2 auto) |
 * | 22 | uint8 shingle hash (0 = MurmurHash3 x86-32 of the UTF-8 of the n-gram, words joined by one space) |
 * | 24–31 | float64 number of records |
 */
export const SIGNATURE_FORMAT_VERSION = 1;
export const SIGNATURE_HEADER_BYTES = 64;
/** Header byte 21 → shingle unit. */
const UNIT_CODES: readonly ShingleUnit[] = ["word", "char", "auto"];
const MAGIC = 0x484d4c54; // "TLMH" read as little-endian uint32

export function encodeSignatureHeader(params: SignatureParams, count: number): Uint8Array {
	const header = new Uint8Array(SIGNATURE_HEADER_BYTES);
	const view = new DataView(header.buffer);
	view.setUint32(0, MAGIC, true);
	view.setUint16(4, SIGNATURE_FORMAT_VERSION, true);
	view.setUint16(6, SIGNATURE_HEADER_BYTES, true);
	view.setUint32(8, params.numPerm, true);
	view.setUint32(12, params.ngram, true);
	view.setUint32(16, params.seed >>> 0, true);
	view.setUint8(20, params.scheme === "oph" ? 0 : 1);
	view.setUint8(21, UNIT_CODES.indexOf(params.unit));
	view.setUint8(22, 0);
	view.setFloat64(24, count, true);
	return header;
}

export function decodeSignatureHeader(header: Uint8Array, path: string): SignatureParams & { count: number } {
	const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
	if (header.length < SIGNATURE_HEADER_BYTES || view.getUint32(0, true) !== MAGIC) {
		throw new TransllmError("E_FORMAT", `${path}: not a transllm signature file (bad magic)`);
	}
	const version = view.getUint16(4, true);
	if (version !== SIGNATURE_FORMAT_VERSION) {
		throw new TransllmError("E_FORMAT", `${path}: signature format version ${version}; this transllm reads version ${SIGNATURE_FORMAT_VERSION}`);
	}
	return {
		numPerm: view.getUint32(8, true),
		ngram: view.getUint32(12, true),
		seed: view.getUint32(16, true),
		scheme: view.getUint8(20) === 0 ? "oph" : "kperm",
		unit: UNIT_CODES[view.getUint8(21)] ?? "word",
		count: view.getFloat64(24, true),
	};
}

/** Random access to the signatures of one file (pread per record; the file is never loaded whole). */
export class SignatureReader {
	readonly path: string;
	readonly params: SignatureParams & { count: number };
	private readonly fd: number;
	private readonly record: number;

	constructor(path: string) {
		this.path = path;
		this.fd = openSync(path, "r");
		const header = new Uint8Array(SIGNATURE_HEADER_BYTES);
		readExactly(this.fd, header, 0, path);
		this.params = decodeSignatureHeader(header, path);
		this.record = this.params.numPerm * 4;
	}

	/** Reads the signature of document `index` into `target` (length numPerm). */
	read(index: number, target: Uint32Array): void {
		readExactly(this.fd, new Uint8Array(target.buffer, target.byteOffset, this.record), SIGNATURE_HEADER_BYTES + index * this.record, this.path);
	}

	close(): void {
		closeSync(this.fd);
	}
}
