import { SentencePieceProcessor } from "@sctg/sentencepiece-js";
import { describe, expect, it } from "vitest";
import { InputError } from "@transllm/core";
import { PieceType, readSentencePieceModel, writeSentencePieceModel } from "../src/sentencepiece-model.js";
import { llama2ModelBytes } from "./fixtures.js";

describe("readSentencePieceModel / writeSentencePieceModel", () => {
	const bytes = llama2ModelBytes();

	it("should read Llama-2's tokenizer.model: 32000 pieces, byte fallback BPE, identity normalizer", () => {
		const model = readSentencePieceModel(bytes);
		expect(model.pieces).toHaveLength(32000);
		expect(model.pieces[0]).toMatchObject({ piece: "<unk>", type: PieceType.UNKNOWN });
		expect(model.pieces[1]).toMatchObject({ piece: "<s>", type: PieceType.CONTROL });
		expect(model.pieces[3]).toMatchObject({ piece: "<0x00>", type: PieceType.BYTE });
		expect(model.pieces[260]).toMatchObject({ piece: "▁t", score: -1, type: PieceType.NORMAL });
		expect(model.trainer).toMatchObject({ modelType: 2, byteFallback: true, unkId: 0, bosId: 1, eosId: 2, padId: -1 });
		expect(model.normalizer).toMatchObject({ name: "identity", addDummyPrefix: true, removeExtraWhitespaces: false });
	});

	it("should write an unchanged model back byte for byte", () => {
		expect(Buffer.from(writeSentencePieceModel(readSentencePieceModel(bytes))).equals(bytes)).toBe(true);
	});

	it("should append pieces that SentencePiece itself then uses", async () => {
		const model = readSentencePieceModel(bytes);
		model.pieces.push({ piece: "▁สวัสดี", score: -2e9, type: PieceType.NORMAL }, { piece: "<TH>", score: 0, type: PieceType.USER_DEFINED });
		const written = writeSentencePieceModel(model);
		const reread = readSentencePieceModel(written);
		expect(reread.pieces).toHaveLength(32002);
		expect(reread.pieces[32000]).toMatchObject({ piece: "▁สวัสดี", type: PieceType.NORMAL });
		expect(reread.pieces[32000]?.score).toBeCloseTo(-2e9, -3);
		const processor = new SentencePieceProcessor();
		await processor.loadFromB64StringModel(Buffer.from(written).toString("base64"));
		// A user-defined piece is matched whole in the text.
		expect(processor.encodeIds("<TH> hello")).toContain(32001);
	});

	it("should name the file when the model is truncated or empty", () => {
		expect(() => readSentencePieceModel(bytes.subarray(0, 1001), "cut.model")).toThrow(InputError);
		expect(() => readSentencePieceModel(bytes.subarray(0, 1001), "cut.model")).toThrow(/cut\.model.*malformed SentencePiece model/);
		expect(() => readSentencePieceModel(new Uint8Array(), "empty.model")).toThrow(/empty\.model: SentencePiece model has no pieces/);
	});
});
