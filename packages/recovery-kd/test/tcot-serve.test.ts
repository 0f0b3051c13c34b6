import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { buildTcotChainFixture, loadModel } from "@transllm/runtime";
import type { ChatModel, TcotChainFixture } from "@transllm/runtime";
import { BUILTIN_CHAT_TEMPLATES, buildTcotPrompt } from "@transllm/tcot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointChatAnswerer, startOpenAiCompatibleServer } from "../src/index.js";
import type { OpenAiCompatibleServer, TcotServeOptions } from "../src/index.js";

// Models whose vocabulary has <EN>, <RESPONSE>, <TH> as added special tokens (as `tokenizer extend` leaves them) and
// whose greedy output is a TCOT chain, served through `startOpenAiCompatibleServer` and called with the official client.
const QUERY_1 = "ประเทศไทยมีเมืองหลวงชื่ออะไร";
const QUERY_2 = "แล้วประชากรล่ะ";
const template = BUILTIN_CHAT_TEMPLATES["llama-2"].template;

interface Served {
	fixture: TcotChainFixture;
	model: ChatModel;
}

let dir: string;
let tcot: Served;
let early: Served;
let english: Served;
const open: OpenAiCompatibleServer[] = [];

async function served(form: "tcot" | "stop-before-target" | "english"): Promise<Served> {
	const fixture = await buildTcotChainFixture({ dir: join(dir, form), form });
	return { fixture, model: await loadModel(fixture.dir, { executionProvider: "cpu" }) };
}

async function start(model: ChatModel, tcotOptions: TcotServeOptions = {}): Promise<{ server: OpenAiCompatibleServer; client: OpenAI; prompts: { prompt: string; purpose: string }[] }> {
	const prompts: { prompt: string; purpose: string }[] = [];
	const server = await startOpenAiCompatibleServer({ model, modelName: "tiny-tcot", tcot: { ...tcotOptions, onPrompt: (prompt, purpose) => prompts.push({ prompt, purpose }) } });
	open.push(server);
	return { server, client: new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 }), prompts };
}

type TcotMessage = OpenAI.Chat.Completions.ChatCompletionMessage & { reasoning_content?: string | null };
type TcotCompletion = OpenAI.Chat.Completions.ChatCompletion & { transllm: { history: string[]; translated_turns: number; choices: { mode: string; fallback: unknown[]; hidden_tokens: number; english_query: string }[] } };

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "tcot-serve-"));
	[tcot, early, english] = await Promise.all([served("tcot"), served("stop-before-target"), served("english")]);
}, 120_000);
afterAll(async () => {
	for (const server of open) await server.close();
	await Promise.all([tcot, early, english].map((s) => s?.model.dispose()));
});

describe("transllm serve --tcot (official openai client over loopback)", () => {
	it("should return only the target-language answer, with the English parts as reasoning_content", async () => {
		const { server, client, prompts } = await start(tcot.model);
		expect(server.tcot).toEqual({ enabled: true, lang: "th" });
		const completion = (await client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], temperature: 0, max_tokens: 64 })) as TcotCompletion;
		const message = completion.choices[0]?.message as TcotMessage;
		expect(message.content).toBe(tcot.fixture.responseTarget);
		expect(message.reasoning_content).toBe(`${tcot.fixture.queryEn}\n\n${tcot.fixture.responseEn}`);
		expect(completion.choices[0]?.finish_reason).toBe("stop");
		// The prompt is the model's chat template around the query alone; every generated token is counted, the hidden ones as reasoning tokens.
		expect(prompts).toEqual([{ prompt: buildTcotPrompt({ query: QUERY_1, chatTemplate: template, tokenizerConfig: tcot.model.tokenizerConfig }).prompt, purpose: "answer" }]);
		const generated = tcot.model.tokenizer.encode(tcot.fixture.output, { addSpecialTokens: false }).length;
		const visible = tcot.model.tokenizer.encode(tcot.fixture.responseTarget, { addSpecialTokens: false }).length;
		expect(completion.usage).toMatchObject({ completion_tokens: generated, completion_tokens_details: { reasoning_tokens: generated - visible } });
		expect(completion.transllm.choices[0]).toMatchObject({ mode: "tcot", english_query: tcot.fixture.queryEn, fallback: [], hidden_tokens: generated - visible });
	});

	it("should stream target-language content deltas and English reasoning_content deltas, never a marker", async () => {
		const { client } = await start(tcot.model);
		const stream = await client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], temperature: 0, max_tokens: 64, stream: true, stream_options: { include_usage: true } });
		let content = "";
		let reasoning = "";
		let finish: string | null = null;
		let usage: OpenAI.CompletionUsage | undefined;
		const order: string[] = [];
		for await (const chunk of stream) {
			const delta = chunk.choices[0]?.delta as (OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string }) | undefined;
			if (delta?.content) (content += delta.content), order.push("content");
			if (delta?.reasoning_content) (reasoning += delta.reasoning_content), order.push("reasoning");
			finish = chunk.choices[0]?.finish_reason ?? finish;
			usage = chunk.usage ?? usage;
		}
		expect(content).toBe(tcot.fixture.responseTarget);
		expect(reasoning).toBe(`${tcot.fixture.queryEn}\n\n${tcot.fixture.responseEn}`);
		expect(order.indexOf("content")).toBeGreaterThan(order.lastIndexOf("reasoning"));
		expect(order.filter((o) => o === "content").length).toBeGreaterThan(1);
		expect(finish).toBe("stop");
		expect(usage?.completion_tokens).toBeGreaterThan(usage?.completion_tokens_details?.reasoning_tokens ?? Infinity);
	});

	it("should hold only English history in the prompt of the next turn, across a server restart", async () => {
		const cacheFile = join(dir, "history.json");
		const first = await start(tcot.model, { cacheFile });
		const turn1 = await first.client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], temperature: 0, max_tokens: 64 });
		const answer1 = turn1.choices[0]?.message.content as string;
		await first.server.close();
		expect(JSON.parse(await readFile(cacheFile, "utf8")).entries).toHaveLength(1);

		// A new server on the same cache file: the client sends back what it was shown; the prompt holds the English parts.
		const second = await start(tcot.model, { cacheFile });
		const messages = [
			{ role: "system" as const, content: "You are helpful." },
			{ role: "user" as const, content: QUERY_1 },
			{ role: "assistant" as const, content: answer1 },
			{ role: "user" as const, content: QUERY_2 },
		];
		const turn2 = (await second.client.chat.completions.create({ model: "tiny-tcot", messages, temperature: 0, max_tokens: 64 })) as TcotCompletion;
		const expected = buildTcotPrompt({ query: QUERY_2, system: "You are helpful.", history: [{ queryEn: tcot.fixture.queryEn, responseEn: tcot.fixture.responseEn }], chatTemplate: template, tokenizerConfig: tcot.model.tokenizerConfig }).prompt;
		expect(second.prompts).toEqual([{ prompt: expected, purpose: "answer" }]);
		expect(expected).toContain(`[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\n${tcot.fixture.queryEn} [/INST] ${tcot.fixture.responseEn} </s><s>[INST] ${QUERY_2} [/INST]`);
		for (const absent of [QUERY_1, answer1, "<EN>", "<RESPONSE>", "<TH>"]) expect(expected).not.toContain(absent);
		expect(turn2.transllm).toMatchObject({ history: ["cache"], translated_turns: 0 });
		expect(turn2.choices[0]?.message.content).toBe(tcot.fixture.responseTarget);
	});

	it("should translate a turn it does not know with the model itself and say so", async () => {
		const { client, prompts } = await start(tcot.model);
		const turn = (await client.chat.completions.create({
			model: "tiny-tcot",
			messages: [
				{ role: "user", content: QUERY_1 },
				{ role: "assistant", content: "กรุงเทพมหานคร" },
				{ role: "user", content: QUERY_2 },
			],
			temperature: 0,
			max_tokens: 64,
		})) as TcotCompletion;
		expect(turn.transllm).toMatchObject({ history: ["translated"], translated_turns: 1 });
		const translations = prompts.filter((p) => p.purpose === "translate");
		expect(translations).toHaveLength(2);
		expect(translations.map((p) => p.prompt).join("\n")).toContain("กรุงเทพมหานคร");
		// This model "translates" everything into its English query (it writes `<EN> q` and stops at the next marker).
		const answer = prompts.find((p) => p.purpose === "answer")?.prompt as string;
		expect(answer).toBe(buildTcotPrompt({ query: QUERY_2, history: [{ queryEn: tcot.fixture.queryEn, responseEn: tcot.fixture.queryEn }], chatTemplate: template, tokenizerConfig: tcot.model.tokenizerConfig }).prompt);
	});

	it("should apply the paper's fallback when the model stops before the target answer", async () => {
		const { client, prompts } = await start(early.model);
		const completion = (await client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], temperature: 0, max_tokens: 64 })) as TcotCompletion;
		expect(completion.choices[0]?.message.content).toBe(early.fixture.responseTarget);
		expect(completion.transllm.choices[0]?.fallback).toEqual([{ stage: "target-response", append: " <TH>" }]);
		expect(prompts.at(-1)).toEqual({ purpose: "continue", prompt: `${prompts[0]?.prompt}${early.fixture.output} <TH>` });
		// Within the budget: with no token left after the English part, nothing is appended.
		const tight = (await client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], temperature: 0, max_tokens: 4 })) as TcotCompletion;
		expect(tight.choices[0]?.message.content).toBe("");
		expect(tight.choices[0]?.finish_reason).toBe("length");
		expect(tight.usage?.completion_tokens).toBeLessThanOrEqual(4);
	});

	it("should return an English-mode answer (<RESPONSE> a) as the content", async () => {
		const { client } = await start(english.model);
		const completion = (await client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: "What is the capital of Thailand?" }], temperature: 0, max_tokens: 32 })) as TcotCompletion;
		const message = completion.choices[0]?.message as TcotMessage;
		expect([message.content, message.reasoning_content ?? null, completion.transllm.choices[0]?.mode]).toEqual([english.fixture.responseEn, null, "english"]);
	});

	it("should give n choices, /tokenize, and OpenAI-shaped errors with size limits", async () => {
		const { server, client } = await start(tcot.model);
		const two = await client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], temperature: 0, max_tokens: 64, n: 2 });
		expect(two.choices.map((c) => [c.index, c.message.content])).toEqual([
			[0, tcot.fixture.responseTarget],
			[1, tcot.fixture.responseTarget],
		]);
		// logprobs of the returned (target-language) tokens only; the hand-set model is sure of each.
		const scored = await client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], temperature: 0, max_tokens: 64, logprobs: true });
		const tokens = scored.choices[0]?.logprobs?.content ?? [];
		expect(tokens.map((t) => t.token).join("")).toBe(tcot.fixture.responseTarget);
		expect(tokens.every((t) => t.logprob <= 0 && t.logprob > -0.01)).toBe(true);
		await expect(client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], logprobs: true, top_logprobs: 2 })).rejects.toMatchObject({ status: 400, param: "top_logprobs" });
		const tokenized = (await (await fetch(`${server.url}/tokenize`, { method: "POST", body: JSON.stringify({ prompt: "<EN> hello" }) })).json()) as { count: number; tokens: number[] };
		expect(tokenized.tokens.slice(0, 2)).toEqual([1, tcot.fixture.markerIds.get("<EN>")]);
		expect(tokenized.count).toBe(tokenized.tokens.length);
		await expect(client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "user", content: QUERY_1 }], n: 99 })).rejects.toMatchObject({ status: 400, type: "invalid_request_error", param: "n" });
		const huge = await fetch(`${server.baseUrl}/chat/completions`, { method: "POST", body: JSON.stringify({ messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] }) });
		expect(huge.status).toBe(413);
		expect(((await huge.json()) as { error: { code: string } }).error.code).toBe("request_too_large");
		await expect(client.chat.completions.create({ model: "tiny-tcot", messages: [{ role: "assistant", content: "hi" }] })).rejects.toMatchObject({ status: 400, param: "messages[0].role" });
	});

	it("should chat through transllm chat's endpoint answerer: content and English parts apart", async () => {
		const { server } = await start(tcot.model);
		const answerer = endpointChatAnswerer({ endpoint: server.baseUrl, model: "tiny-tcot", maxTokens: 64, temperature: 0 });
		const seen = { reasoning: "", content: "" };
		const answer = await answerer.answer([{ role: "user", content: QUERY_1 }], { signal: new AbortController().signal, onReasoning: (t) => void (seen.reasoning += t), onContent: (t) => void (seen.content += t) });
		const reasoning = `${tcot.fixture.queryEn}\n\n${tcot.fixture.responseEn}`;
		expect(answer).toEqual({ content: tcot.fixture.responseTarget, reasoning, finishReason: "stop" });
		expect(seen).toEqual({ content: tcot.fixture.responseTarget, reasoning });
	});
});
