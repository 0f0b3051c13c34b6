import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseTcotOutput } from "@transllm/tcot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import type { ChatModel } from "../src/chat-model.js";
import { buildTcotChainFixture } from "../src/fixture/index.js";
import type { TcotChainFixture } from "../src/fixture/index.js";
import { tempDir } from "./graph-test-helpers.js";

// A model whose vocabulary has <EN>, <RESPONSE>, <TH> as added special tokens (as `tokenizer extend` and
// LLaMA-Factory's new_special_tokens leave them) and whose greedy output is a TCOT chain.
describe("TCOT markers in generated text", () => {
	let fixture: TcotChainFixture;
	let model: ChatModel;

	beforeAll(async () => {
		fixture = await buildTcotChainFixture({ dir: await tempDir("runtime-tcot-markers") });
		model = await loadModel(fixture.dir, { executionProvider: "cpu" });
	}, 120_000);
	afterAll(async () => {
		await model?.dispose();
	});

	it("should hold the markers as added special tokens, as tokenizer extend writes them", async () => {
		const tokenizerJson = JSON.parse(await readFile(join(fixture.dir, "tokenizer.json"), "utf8")) as { added_tokens: unknown[] };
		const config = JSON.parse(await readFile(join(fixture.dir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
		expect(tokenizerJson.added_tokens.slice(-3)).toEqual(
			["<EN>", "<RESPONSE>", "<TH>"].map((content, i) => ({ id: 512 + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
		);
		expect(config.additional_special_tokens).toEqual(["<EN>", "<RESPONSE>", "<TH>"]);
		// Plain skip_special_tokens decoding drops them, as transformers does.
		const ids = [...fixture.markerIds.values()];
		expect(model.tokenizer.decode(ids, { skipSpecialTokens: true })).toBe("");
		expect(model.tokenizer.decode(ids, { skipSpecialTokens: true, keepSpecialTokens: new Set(ids) })).toBe("<EN><RESPONSE><TH>");
	});

	it("should keep the markers in generated and streamed text, so the output parses as a complete chain", async () => {
		const streamed: string[] = [];
		const [result] = await model.generate({ prompts: ["ประเทศไทยมีเมืองหลวงชื่ออะไร"], chat: true, maxNewTokens: 64, onToken: (_i, text) => streamed.push(text) });
		expect(result?.finishReason).toBe("eos");
		expect(result?.text).toBe(fixture.output);
		expect(result?.text).toBe("<EN>What is the capital?<RESPONSE>Sure.<TH>คือกรุงเทพ");
		expect(streamed.join("")).toBe(result?.text);
		expect(parseTcotOutput(result?.text as string, { lang: "th" })).toMatchObject({
			mode: "tcot",
			complete: true,
			queryEn: fixture.queryEn,
			responseEn: fixture.responseEn,
			responseTarget: fixture.responseTarget,
		});
	});

	it("should drop the markers when told to keep no special token (the old behaviour: nothing to parse)", async () => {
		const [result] = await model.generate({ prompts: ["สวัสดี"], chat: true, maxNewTokens: 64, keepSpecialTokens: [] });
		expect(result?.text).not.toContain("<");
		expect(parseTcotOutput(result?.text as string, { lang: "th" }).complete).toBe(false);
	});
});
