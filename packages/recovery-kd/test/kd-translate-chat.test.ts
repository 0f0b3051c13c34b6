import { mkdtemp, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	createChatTranslationBackend,
	createLocalGenerationBackend,
	createOpenAiGenerationBackend,
	extractTranslation,
	maskText,
	startOpenAiCompatibleServer,
	translateKdPair,
	translateRecoveryKd,
	translationMessages,
} from "../src/index.js";
import type { OpenAiCompatibleServer, TranslatedKdRecord } from "../src/index.js";
import { tinyChatModel } from "./model-fixture.js";

let fixture: Awaited<ReturnType<typeof tinyChatModel>>;
let server: OpenAiCompatibleServer;

beforeAll(async () => {
	fixture = await tinyChatModel();
	server = await startOpenAiCompatibleServer({ model: fixture.model, modelName: "tiny-llama-chat" });
});
afterAll(async () => {
	await server?.close();
	await fixture?.model.dispose();
});

const PAIR = { id: "q1", query_en: "What is the capital of France?", response_en: "The capital of France is Paris. Call `get_capital()` to check." };

describe("chat-model translation (the model itself, through translation prompts)", () => {
	it("should send X-LLM translation prompts to the served model and keep whatever it answers, flagged", async () => {
		const generator = createOpenAiGenerationBackend({ endpoint: server.baseUrl, model: "tiny-llama-chat", concurrency: 2 });
		const record = await translateKdPair(PAIR, createChatTranslationBackend({ generator, maxTokens: 8 }), "th");
		const [direct] = await fixture.model.generate({ prompts: [translationMessages(PAIR.query_en, "en", "th")], temperature: 0, maxNewTokens: 8 });
		expect(record.query_t).toBe(extractTranslation(direct?.text ?? "", PAIR.query_en));
		// A tiny random model neither writes Thai nor keeps ⟦0⟧: the record is kept, its problems flagged.
		expect(record.flags).toEqual(expect.arrayContaining(["lang_mismatch_query", "lang_mismatch_response", "mask_fallback", "translation_truncated"]));
		expect(record.response_t).toContain("`get_capital()`");
		expect(maskText(PAIR.response_en, "placeholder").spans).toEqual(["`get_capital()`"]);
	});

	it("should translate a file with the local model exactly as with the same model served over HTTP", async () => {
		const dir = await mkdtemp(join(tmpdir(), "kd-chat-"));
		const input = join(dir, "kd.jsonl");
		await writeFile(input, `${[PAIR, { id: "q2", query_en: "Name a planet.", response_en: "Mars is a planet." }].map((p) => JSON.stringify(p)).join("\n")}\n`);
		const remote = createChatTranslationBackend({ generator: createOpenAiGenerationBackend({ endpoint: server.baseUrl, model: "tiny-llama-chat", concurrency: 1 }), maxTokens: 8 });
		const local = createChatTranslationBackend({ generator: createLocalGenerationBackend({ model: fixture.model, modelName: "tiny-llama-chat", location: fixture.dir, batchSize: 1 }), maxTokens: 8 });
		await translateRecoveryKd({ input, out: join(dir, "remote.jsonl"), lang: "th", backend: remote, progress: false });
		await translateRecoveryKd({ input, out: join(dir, "local.jsonl"), lang: "th", backend: local, progress: false });
		const text = await readFile(join(dir, "local.jsonl"), "utf8");
		expect(text).toBe(await readFile(join(dir, "remote.jsonl"), "utf8"));
		const records = text.trim().split("\n").map((l) => JSON.parse(l) as TranslatedKdRecord);
		expect(records.map((r) => [r.id, r.lang])).toEqual([["q1", "th"], ["q2", "th"]]);
		const manifest = JSON.parse(await readFile(join(dir, "local.jsonl.manifest.json"), "utf8")) as { settings: Record<string, unknown> };
		expect(manifest.settings).toMatchObject({ backend: "chat", maskStyle: "placeholder", granularity: "block", model: "tiny-llama-chat" });
		// Issue 16 point 1: resuming with another target language would mix two languages in one file.
		await rename(join(dir, "local.jsonl"), join(dir, "local.jsonl.partial"));
		await expect(translateRecoveryKd({ input, out: join(dir, "local.jsonl"), lang: "ar", backend: local, resume: true, progress: false })).rejects.toThrow(/local\.jsonl with other settings .*lang "th" → "ar"/);
	});
});
