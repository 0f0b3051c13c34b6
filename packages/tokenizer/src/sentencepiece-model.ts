import { InputError } from "@transllm/core";

/**
 * SentencePiece `ModelProto` (sentencepiece_model.proto) without a protobuf dependency. Only `pieces` (field 1)
 * is decoded; every other top-level field (trainer_spec, normalizer_spec, self_test_data, denormalizer_spec,
 * unknown fields) is kept as its raw bytes and written back unchanged, so an edit touches nothing but the pieces.
 */

/** `ModelProto.SentencePiece.Type`. */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;
export type PieceTypeValue = (typeof PieceType)[keyof typeof PieceType];

export interface SentencePiece {
	piece: string;
	score: number;
	type: PieceTypeValue;
	/** The piece's original encoding, reused verbatim when the piece is unchanged (keeps files byte-identical). */
	raw?: Uint8Array;
}

/** One top-level field as it appeared in the file; pieces are decoded, the rest kept raw. */
type ModelField = { kind: "pieces" } | { kind: "raw"; bytes: Uint8Array };

export interface SentencePieceModel {
	pieces: SentencePiece[];
	/** Top-level fields in file order; all pieces are written where the first piece stood. */
	fields: ModelField[];
	/** `normalizer_spec` flags that tokenizer.json conversion needs (proto defaults when absent). */
	normalizer: { name: string; addDummyPrefix: boolean; removeExtraWhitespaces: boolean; escapeWhitespaces: boolean };
	/** `trainer_spec.model_type` (1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR) and `byte_fallback`. */
	trainer: { modelType: number; byteFallback: boolean; unkId: number; bosId: number; eosId: number; padId: number };
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

class Reader {
	offset = 0;
	constructor(
		readonly bytes: Uint8Array,
		readonly file: string,
		readonly field: string,
	) {}
	get done(): boolean {
		return this.offset >= this.bytes.length;
	}
	fail(reason: string): never {
		throw new InputError(`malformed SentencePiece model: ${reason} at byte ${this.offset}`, { file: this.file, field: this.field });
	}
	varint(): number {
		let result = 0;
		let shift = 0;
		for (;;) {
			if (this.offset >= this.bytes.length) this.fail("truncated varint");
			const byte = this.bytes[this.offset++] as number;
			if (shift < 49) result += (byte & 0x7f) * 2 ** shift;
			if ((byte & 0x80) === 0) return result;
			shift += 7;
			if (shift > 63) this.fail("varint longer than 10 bytes");
		}
	}
	take(length: number): Uint8Array {
		if (length < 0 || this.offset + length > this.bytes.length) this.fail(`field of ${length} bytes runs past the end`);
		const slice = this.bytes.subarray(this.offset, this.offset + length);
		this.offset += length;
		return slice;
	}
	/** Skips one field's value. */
	skip(wire: number): void {
		if (wire === WIRE_VARINT) this.varint();
		else if (wire === WIRE_I64) this.take(8);
		else if (wire === WIRE_LEN) this.take(this.varint());
		else if (wire === WIRE_I32) this.take(4);
		else this.fail(`unsupported wire type ${wire}`);
	}
}

function writeVarint(out: number[], value: number): void {
	let v = value;
	while (v >= 0x80) {
		out.push((v % 0x80) | 0x80);
		v = Math.floor(v / 0x80);
	}
	out.push(v);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function decodePiece(bytes: Uint8Array, file: string, index: number): SentencePiece {
	const reader = new Reader(bytes, file, `pieces[${index}]`);
	let piece: string | undefined;
	let score = 0;
	let type: number = PieceType.NORMAL;
	while (!reader.done) {
		const key = reader.varint();
		const number = Math.floor(key / 8);
		const wire = key % 8;
		if (number === 1 && wire === WIRE_LEN) {
			try {
				piece = utf8.decode(reader.take(reader.varint()));
			} catch (error) {
				if (error instanceof InputError) throw error;
				reader.fail("piece is not valid UTF-8");
			}
		} else if (number === 2 && wire === WIRE_I32) {
			const raw = reader.take(4);
			score = new DataView(raw.buffer, raw.byteOffset, 4).getFloat32(0, true);
		} else if (number === 3 && wire === WIRE_VARINT) type = reader.varint();
		else reader.skip(wire);
	}
	if (piece === undefined) return reader.fail("piece without text");
	if (type < 1 || type > 6) reader.fail(`unknown piece type ${type}`);
	return { piece, score, type: type as PieceTypeValue, raw: bytes };
}

function decodeNormalizer(bytes: Uint8Array, file: string): SentencePieceModel["normalizer"] {
	const reader = new Reader(bytes, file, "normalizer_spec");
	const spec = { name: "", addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
	while (!reader.done) {
		const key = reader.varint();
		const number = Math.floor(key / 8);
		const wire = key % 8;
		if (number === 1 && wire === WIRE_LEN) spec.name = utf8.decode(reader.take(reader.varint()));
		else if (number === 3 && wire === WIRE_VARINT) spec.addDummyPrefix = reader.varint() !== 0;
		else if (number === 4 && wire === WIRE_VARINT) spec.removeExtraWhitespaces = reader.varint() !== 0;
		else if (number === 5 && wire === WIRE_VARINT) spec.escapeWhitespaces = reader.varint() !== 0;
		else reader.skip(wire);
	}
	return spec;
}

function decodeTrainer(bytes: Uint8Array, file: string): SentencePieceModel["trainer"] {
	const reader = new Reader(bytes, file, "trainer_spec");
	// Proto defaults: model_type UNIGRAM, unk 0, bos 1, eos 2, pad -1.
	const spec = { modelType: 1, byteFallback: false, unkId: 0, bosId: 1, eosId: 2, padId: -1 };
	// int32 fields are sign-extended to 64 bits on the wire; the low 32 bits carry the value.
	const signed = (v: number): number => {
		const low = v % 2 ** 32;
		return low >= 2 ** 31 ? low - 2 ** 32 : low;
	};
	while (!reader.done) {
		const key = reader.varint();
		const number = Math.floor(key / 8);
		const wire = key % 8;
		if (wire !== WIRE_VARINT) reader.skip(wire);
		else if (number === 3) spec.modelType = reader.varint();
		else if (number === 35) spec.byteFallback = reader.varint() !== 0;
		else if (number === 40) spec.unkId = signed(reader.varint());
		else if (number === 41) spec.bosId = signed(reader.varint());
		else if (number === 42) spec.eosId = signed(reader.varint());
		else if (number === 43) spec.padId = signed(reader.varint());
		else reader.varint();
	}
	return spec;
}

/** Reads a SentencePiece `tokenizer.model` (ModelProto). `file` names it in errors. */
export function readSentencePieceModel(bytes: Uint8Array, file = "tokenizer.model"): SentencePieceModel {
	const reader = new Reader(bytes, file, "ModelProto");
	const pieces: SentencePiece[] = [];
	const fields: ModelField[] = [];
	let normalizer: SentencePieceModel["normalizer"] = { name: "", addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
	let trainer: SentencePieceModel["trainer"] = decodeTrainer(new Uint8Array(), file);
	while (!reader.done) {
		const start = reader.offset;
		const key = reader.varint();
		const number = Math.floor(key / 8);
		const wire = key % 8;
		if (number === 1 && wire === WIRE_LEN) {
			const body = reader.take(reader.varint());
			pieces.push(decodePiece(body, file, pieces.length));
			if (!fields.some((f) => f.kind === "pieces")) fields.push({ kind: "pieces" });
			continue;
		}
		if (number === 0) reader.fail("field number 0");
		reader.skip(wire);
		const raw = bytes.subarray(start, reader.offset);
		if (number === 2 && wire === WIRE_LEN) trainer = decodeTrainer(lengthDelimitedBody(raw), file);
		if (number === 3 && wire === WIRE_LEN) normalizer = decodeNormalizer(lengthDelimitedBody(raw), file);
		fields.push({ kind: "raw", bytes: raw });
	}
	if (pieces.length === 0) throw new InputError("SentencePiece model has no pieces (is this a tokenizer.model?)", { file });
	return { pieces, fields, normalizer, trainer };
}

function lengthDelimitedBody(field: Uint8Array): Uint8Array {
	const reader = new Reader(field, "", "");
	reader.varint();
	return reader.take(reader.varint());
}

function encodePiece(piece: SentencePiece): Uint8Array {
	const text = utf8Encoder.encode(piece.piece);
	const out: number[] = [0x0a];
	writeVarint(out, text.length);
	const head = Uint8Array.from(out);
	const score = new Uint8Array(5);
	score[0] = 0x15;
	new DataView(score.buffer).setFloat32(1, piece.score, true);
	// type is omitted when NORMAL (the proto default), as SentencePiece itself writes it.
	const type = piece.type === PieceType.NORMAL ? new Uint8Array() : Uint8Array.from([0x18, piece.type]);
	return concat([head, text, score, type]);
}

function concat(parts: Uint8Array[]): Uint8Array {
	const total = parts.reduce((sum, part) => sum + part.length, 0);
	const out = new Uint8Array(total);
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.length;
	}
	return out;
}

/** Writes a model back: unchanged pieces and fields byte-for-byte, new or edited pieces encoded afresh. */
export function writeSentencePieceModel(model: SentencePieceModel): Uint8Array {
	const parts: Uint8Array[] = [];
	const writePieces = (): void => {
		for (const piece of model.pieces) {
			const body = piece.raw ?? encodePiece(piece);
			const key: number[] = [0x0a];
			writeVarint(key, body.length);
			parts.push(Uint8Array.from(key), body);
		}
	};
	let piecesWritten = false;
	for (const field of model.fields) {
		if (field.kind === "pieces") {
			writePieces();
			piecesWritten = true;
		} else parts.push(field.bytes);
	}
	if (!piecesWritten) writePieces();
	return concat(parts);
}
