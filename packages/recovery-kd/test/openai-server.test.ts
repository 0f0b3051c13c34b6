import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiCompatibleServer } from "../src/index.js";
import type { OpenAiCompatibleServer } from "../src/index.js";
import { tinyChatModel } from "./model-fixture.js";

let fixture: Awaited<ReturnType<typeof tinyChatModel>>;
let server: OpenAiCompatibleServer;
let client: OpenAI;
const MESSAGES = [{ role: "user" as const, content: "What are the three primary colors?" }];

beforeAll(async () => {
	fixture = await tinyChatModel();
	server = await startOpenAiCompatibleServer({ model: fixture.model, modelName: "tiny-llama-chat" });
	client = new OpenAI({ baseURL: server.baseUrl, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
	await server?.close();
	await fixture?.model.dispose();
});

describe("startOpenAiCompatibleServer (tiny real Llama, official openai client)", () => {
	it("should list its model", async () => {
		const models = await client.models.list();
		expect(models.data.map((m) => m.id)).toEqual(["tiny-llama-chat"]);
	});

	it("should answer a chat completion with the model's own chat template, greedy at temperature 0", async () => {
		const completion = await client.chat.completions.create({ model: "tiny-llama-chat", messages: MESSAGES, temperature: 0, max_tokens: 12 });
		const [direct] = await fixture.model.generate({ prompts: [MESSAGES], temperature: 0, maxNewTokens: 12 });
		expect(completion.object).toBe("chat.completion");
		expect(completion.choices[0]?.message).toEqual({ role: "assistant", content: direct?.text });
		expect(completion.choices[0]?.finish_reason).toBe(direct?.finishReason === "eos" ? "stop" : direct?.finishReason);
		expect(completion.usage?.completion_tokens).toBe(direct?.tokenIds.length);
		expect(completion.usage?.prompt_tokens).toBeGreaterThan(10);
	});

	it("should stream the same text as server-sent events", async () => {
		const whole = await client.chat.completions.create({ model: "tiny-llama-chat", messages: MESSAGES, temperature: 0, max_tokens: 12 });
		const stream = await client.chat.completions.create({ model: "tiny-llama-chat", messages: MESSAGES, temperature: 0, max_tokens: 12, stream: true });
		let text = "";
		let finish: string | null = null;
		let chunks = 0;
		for await (const chunk of stream) {
			chunks += 1;
			text += chunk.choices[0]?.delta.content ?? "";
			finish = chunk.choices[0]?.finish_reason ?? finish;
		}
		expect(chunks).toBeGreaterThan(2);
		expect(text).toBe(whole.choices[0]?.message.content);
		expect(finish).toBe(whole.choices[0]?.finish_reason);
	});

	it("should complete raw prompts on /v1/completions", async () => {
		const prompt = "All human beings are born free and equal";
		const completion = await client.completions.create({ model: "tiny-llama-chat", prompt, temperature: 0, max_tokens: 8 });
		const [direct] = await fixture.model.generate({ prompts: [prompt], temperature: 0, maxNewTokens: 8 });
		expect(completion.choices[0]?.text).toBe(direct?.text);
	});

	it("should batch concurrent requests into fewer forward passes (micro-batching)", async () => {
		const micro = await startOpenAiCompatibleServer({ model: fixture.model, modelName: "tiny-llama-chat", batching: "micro" });
		const microClient = new OpenAI({ baseURL: micro.baseUrl, apiKey: "unused", maxRetries: 0 });
		try {
			// A long request keeps the model busy while the short ones arrive and queue up behind it.
			const blocker = microClient.chat.completions.create({ model: "tiny-llama-chat", messages: MESSAGES, temperature: 0, max_tokens: 200 });
			await new Promise((resolve) => setTimeout(resolve, 5));
			const questions = ["Name a planet.", "What is 2 + 2?", "Describe an atom.", "Give a tip.", "Say hello.", "Who wrote Hamlet?"];
			const answers = await Promise.all(questions.map((q) => microClient.chat.completions.create({ model: "tiny-llama-chat", messages: [{ role: "user", content: q }], temperature: 0, max_tokens: 6 })));
			await blocker;
			expect(answers.every((a) => typeof a.choices[0]?.message.content === "string")).toBe(true);
			expect(micro.stats.generateCalls).toBeLessThan(1 + questions.length);
			expect(micro.stats.batchedPrompts).toBe(1 + questions.length);
		} finally {
			await micro.close();
		}
	});

	it("should let short requests join a running long one and finish first (continuous batching), with the same text", async () => {
		const finished: string[] = [];
		const blocker = client.chat.completions.create({ model: "tiny-llama-chat", messages: MESSAGES, temperature: 0, max_tokens: 200 }).then((r) => (finished.push("long"), r));
		await new Promise((resolve) => setTimeout(resolve, 5));
		const questions = ["Name a planet.", "What is 2 + 2?", "Say hello."];
		const answers = await Promise.all(questions.map((q) => client.chat.completions.create({ model: "tiny-llama-chat", messages: [{ role: "user", content: q }], temperature: 0, max_tokens: 6 }).then((r) => (finished.push("short"), r))));
		const long = await blocker;
		expect(finished).toEqual(["short", "short", "short", "long"]);
		const alone = await fixture.model.generate({ prompts: questions.map((q) => [{ role: "user" as const, content: q }]), temperature: 0, maxNewTokens: 6, batchSize: 1 });
		expect(answers.map((a) => a.choices[0]?.message.content)).toEqual(alone.map((r) => r.text));
		expect(long.usage?.completion_tokens).toBeGreaterThan(6);
	});

	it("should answer bad requests with OpenAI-shaped errors", async () => {
		await expect(client.chat.completions.create({ model: "gpt-4", messages: MESSAGES })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
		await expect(client.chat.completions.create({ model: "tiny-llama-chat", messages: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
		await expect(client.chat.completions.create({ model: "tiny-llama-chat", messages: MESSAGES, temperature: 7 })).rejects.toThrow(/temperature/);
		const locked = await startOpenAiCompatibleServer({ model: fixture.model, modelName: "tiny-llama-chat", apiKey: "sk-right-key" });
		try {
			const wrong = new OpenAI({ baseURL: locked.baseUrl, apiKey: "sk-wrong-key", maxRetries: 0 });
			await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
			const right = new OpenAI({ baseURL: locked.baseUrl, apiKey: "sk-right-key", maxRetries: 0 });
			expect((await right.models.list()).data).toHaveLength(1);
		} finally {
			await locked.close();
		}
	});

	it("should answer a prompt over the context with a 400 in OpenAI's error shape (issue 16 point 2)", async () => {
		const long = "All human beings are born free and equal in dignity and rights. ".repeat(400);
		const error = await client.chat.completions.create({ model: "tiny-llama-chat", messages: [{ role: "user", content: long }], max_tokens: 4 }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(OpenAI.BadRequestError);
		expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/leaves no room for a new token in the model's context of 2048 tokens/);
	});
});
