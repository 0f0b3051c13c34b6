import { describe, expect, it } from "vitest";
import {
	buildRecoveryKdInstance,
	buildTcotInstance,
	fromAlpaca,
	fromShareGpt,
	fromTrl,
	llamaFactoryDatasetInfo,
	llamaFactorySpecialTokenArgs,
	toAlpaca,
	toShareGpt,
	toTrlMessages,
	toTrlPromptCompletion,
} from "../src/index.js";

const tcot = buildTcotInstance({
	id: "a3",
	query_en: "What does Article 3 say?",
	response_en: "Everyone has the right to life, liberty and the security of person.",
	query_t: "ข้อ 3 กล่าวว่าอย่างไร",
	response_t: "ทุกคนมีสิทธิในการมีชีวิต เสรีภาพ และความมั่นคงแห่งบุคคล",
	lang: "th",
});
const y = "<EN> What does Article 3 say? <RESPONSE> Everyone has the right to life, liberty and the security of person. <TH> ทุกคนมีสิทธิในการมีชีวิต เสรีภาพ และความมั่นคงแห่งบุคคล";
const kd = buildRecoveryKdInstance({ id: "a3", query_en: "What does Article 3 say?", response_en: "Everyone has the right to life." });

describe("LLaMA-Factory", () => {
	it("should write sharegpt, alpaca and metadata exactly", () => {
		expect(JSON.stringify(toShareGpt(tcot))).toBe(`{"conversations":[{"from":"human","value":"ข้อ 3 กล่าวว่าอย่างไร"},{"from":"gpt","value":"${y}"}]}`);
		expect(JSON.stringify(toAlpaca(kd))).toBe('{"instruction":"What does Article 3 say?","input":"","output":"<RESPONSE> Everyone has the right to life."}');
		expect(toShareGpt(kd, { metadata: true })).toMatchObject({ id: "a3:recovery-kd", kind: "recovery-kd", lang: "en" });
	});

	it("should read every record back", () => {
		for (const instance of [tcot, kd]) {
			const expected = { query: instance.query, response: instance.response };
			expect(fromShareGpt(JSON.parse(JSON.stringify(toShareGpt(instance))))).toEqual(expected);
			expect(fromAlpaca(JSON.parse(JSON.stringify(toAlpaca(instance))))).toEqual(expected);
		}
		expect(() => fromShareGpt({ conversations: [{ from: "gpt", value: "x" }] })).toThrow(/field "conversations"/);
	});

	it("should describe the files in dataset_info.json and list the special tokens for the trainer", () => {
		expect(llamaFactoryDatasetInfo("train.jsonl", "sharegpt")).toEqual({
			file_name: "train.jsonl",
			formatting: "sharegpt",
			columns: { messages: "conversations" },
			tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt" },
		});
		expect(llamaFactoryDatasetInfo("train.jsonl", "alpaca")).toEqual({ file_name: "train.jsonl", formatting: "alpaca", columns: { prompt: "instruction", query: "input", response: "output" } });
		expect(llamaFactoryDatasetInfo("pt.jsonl", "pretraining")).toEqual({ file_name: "pt.jsonl", columns: { prompt: "text" } });
		expect(llamaFactorySpecialTokenArgs(["<EN>", "<RESPONSE>", "<TH>"])).toEqual({
			add_special_tokens: "<EN>,<RESPONSE>,<TH>",
			resize_vocab: true,
			additional_target: "embed_tokens,lm_head",
		});
	});
});

describe("TRL", () => {
	it("should write messages and prompt/completion exactly and read them back", () => {
		expect(JSON.stringify(toTrlMessages(kd))).toBe(
			'{"messages":[{"role":"user","content":"What does Article 3 say?"},{"role":"assistant","content":"<RESPONSE> Everyone has the right to life."}]}',
		);
		expect(JSON.stringify(toTrlPromptCompletion(kd))).toBe(
			'{"prompt":[{"role":"user","content":"What does Article 3 say?"}],"completion":[{"role":"assistant","content":"<RESPONSE> Everyone has the right to life."}]}',
		);
		for (const record of [toTrlMessages(tcot), toTrlPromptCompletion(tcot)]) expect(fromTrl(JSON.parse(JSON.stringify(record)))).toEqual({ query: tcot.query, response: y });
		expect(() => fromTrl({ text: "x" })).toThrow(/messages or prompt\/completion/);
	});
});
