import { mkdtemp, readFile, readdir, rename, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	RemoteError,
	createLocalGenerationBackend,
	createOpenAiGenerationBackend,
	generateRecoveryKd,
	generationFlags,
	mergeRecoveryKdRanks,
	recoveryKdRecord,
	startFaultInjectingProxy,
	startOpenAiCompatibleServer,
} from "../src/index.js";
import type { OpenAiCompatibleServer, RecoveryKdRecord, RunManifest } from "../src/index.js";
import { tinyChatModel } from "./model-fixture.js";

const QUERIES = new URL("./fixtures/alpaca-sample.jsonl", import.meta.url).pathname;
let fixture: Awaited<ReturnType<typeof tinyChatModel>>;
let server: OpenAiCompatibleServer;
let dir: string;
let clean: string;
const fast = { retries: 8, baseDelayMs: 1, maxDelayMs: 5 };

const remote = (endpoint: string, options: Partial<Parameters<typeof createOpenAiGenerationBackend>[0]> = {}) =>
	createOpenAiGenerationBackend({ endpoint, model: "tiny-llama-chat", retry: fast, ...options });

async function records(path: string): Promise<RecoveryKdRecord[]> {
	return (await readFile(path, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as RecoveryKdRecord);
}

beforeAll(async () => {
	fixture = await tinyChatModel();
	server = await startOpenAiCompatibleServer({ model: fixture.model, modelName: "tiny-llama-chat" });
	dir = await mkdtemp(join(tmpdir(), "kd-gen-"));
	clean = join(dir, "clean.jsonl");
	await generateRecoveryKd({ queries: QUERIES, out: clean, backend: remote(server.baseUrl, { concurrency: 1 }), params: { max_tokens: 16 }, progress: false });
});
afterAll(async () => {
	await server?.close();
	await fixture?.model.dispose();
});

describe("generateRecoveryKd through an OpenAI-compatible endpoint", () => {
	it("should write one record per query, in input order, with the model's greedy answer", async () => {
		const out = await records(clean);
		expect(out.map((r) => r.id)).toEqual(Array.from({ length: 16 }, (_, i) => `q${i}`));
		expect(Object.keys(out[0] as object).slice(0, 6)).toEqual(["id", "query_en", "response_en", "model", "params", "finish_reason"]);
		expect(out[0]).toMatchObject({ query_en: "Give three tips for staying healthy.", model: "tiny-llama-chat", params: { temperature: 0, max_tokens: 16 } });
		const [direct] = await fixture.model.generate({ prompts: [[{ role: "user", content: "Give three tips for staying healthy." }]], temperature: 0, maxNewTokens: 16 });
		expect(out[0]?.response_en).toBe(direct?.text.trim());
		// An answer cut at max_tokens is flagged, never dropped.
		for (const record of out) expect(record.flags?.includes("truncated") ?? false).toBe(record.finish_reason === "length");
		const manifest = JSON.parse(await readFile(`${clean}.manifest.json`, "utf8")) as RunManifest;
		expect(manifest).toMatchObject({ status: "complete", step: "generate", output: { records: 16 }, settings: { backend: "openai-compatible", model: "tiny-llama-chat" } });
	});

	it("should give the same file at concurrency 8 and through 429s, 500s, timeouts, resets and malformed bodies", async () => {
		const concurrent = join(dir, "c8.jsonl");
		await generateRecoveryKd({ queries: QUERIES, out: concurrent, backend: remote(server.baseUrl, { concurrency: 8 }), params: { max_tokens: 16 }, progress: false });
		expect(await readFile(concurrent, "utf8")).toBe(await readFile(clean, "utf8"));
		const proxy = await startFaultInjectingProxy({ target: server.url, faults: { queue: ["429", "500", "timeout", "reset", "malformed", "wrong-shape", "503"] } });
		try {
			const faulty = join(dir, "faulty.jsonl");
			const summary = await generateRecoveryKd({ queries: QUERIES, out: faulty, backend: remote(`${proxy.url}/v1`, { concurrency: 4, timeoutMs: 3000 }), params: { max_tokens: 16 }, progress: false });
			expect(proxy.faults.pending).toBe(0);
			expect(summary.retries).toBeGreaterThanOrEqual(7);
			expect(await readFile(faulty, "utf8")).toBe(await readFile(clean, "utf8"));
		} finally {
			await proxy.close();
		}
	});

	it("should split the queries over ranks (r, r+W, …) whose merged parts are byte-identical to one task's file", async () => {
		const parts = [0, 1, 2].map((rank) => join(dir, `rank-${rank}.jsonl`));
		for (const [rank, part] of parts.entries()) {
			const summary = await generateRecoveryKd({ queries: QUERIES, out: part, backend: remote(server.baseUrl, { concurrency: 2 }), params: { max_tokens: 16 }, rank, worldSize: 3, progress: false });
			expect(summary.records).toBe(rank === 0 ? 6 : 5);
		}
		expect((await records(parts[1] as string)).map((r) => r.id)).toEqual(["q1", "q4", "q7", "q10", "q13"]);
		const merged = join(dir, "merged.jsonl");
		expect((await mergeRecoveryKdRanks({ queries: QUERIES, parts, out: merged })).records).toBe(16);
		expect(await readFile(merged, "utf8")).toBe(await readFile(clean, "utf8"));
		// Parts in the wrong order do not belong to the input's ranks: an error, not a shuffled file.
		await expect(mergeRecoveryKdRanks({ queries: QUERIES, parts: [...parts].reverse(), out: merged })).rejects.toThrow(/do not belong together/);
		await expect(generateRecoveryKd({ queries: QUERIES, out: join(dir, "bad-rank.jsonl"), backend: remote(server.baseUrl), rank: 3, worldSize: 3, progress: false })).rejects.toThrow(/rank must be an integer in 0…2/);
	});

	it("should set aside a record the server refuses (400) naming its line, and skip it on resume", async () => {
		const proxy = await startFaultInjectingProxy({ target: server.url, faults: { queue: ["400"] } });
		try {
			const out = join(dir, "refused.jsonl");
			const summary = await generateRecoveryKd({ queries: QUERIES, out, backend: remote(`${proxy.url}/v1`, { concurrency: 1 }), params: { max_tokens: 16 }, progress: false });
			expect(summary).toMatchObject({ records: 15, rejected: 1 });
			const rejected = JSON.parse((await readFile(`${out}.rejects.jsonl`, "utf8")).trim()) as { file: string; line: number; reason: string };
			expect(rejected).toMatchObject({ file: QUERIES, line: 1 });
			expect(rejected.reason).toContain("HTTP 400");
			const finished = await readFile(out, "utf8");
			expect((await records(out)).map((r) => r.id)).toEqual((await records(clean)).slice(1).map((r) => r.id));
			// What a run killed after 6 records leaves behind: its partial output and its rejects. Resuming against
			// a server that would now answer q0 still skips it, so the file is the same as the uninterrupted run's.
			await rename(out, `${out}.partial`);
			await writeFile(`${out}.partial`, `${finished.split("\n").slice(0, 6).join("\n")}\n`);
			const resumed = await generateRecoveryKd({ queries: QUERIES, out, backend: remote(server.baseUrl), params: { max_tokens: 16 }, resume: true, progress: false });
			expect(resumed).toMatchObject({ resumed: 6, generated: 9, records: 15, rejected: 1 });
			expect(await readFile(out, "utf8")).toBe(finished);
		} finally {
			await proxy.close();
		}
	});

	it("should refuse a resume with another temperature, system prompt or model, naming each (issue 16 point 1)", async () => {
		const out = join(dir, "mixed.jsonl");
		const finished = await generateRecoveryKd({ queries: QUERIES, out, backend: remote(server.baseUrl), params: { max_tokens: 4 }, progress: false });
		expect(finished.records).toBe(16);
		await rename(out, `${out}.partial`);
		const changed = generateRecoveryKd({ queries: QUERIES, out, backend: remote(server.baseUrl, { concurrency: 3 }), params: { max_tokens: 4, temperature: 0.7, system: "Be brief." }, resume: true, progress: false });
		await expect(changed).rejects.toThrow(/cannot resume .*mixed\.jsonl with other settings .*params\.temperature 0 → 0\.7, params\.system \(unset\) → "Be brief\."/);
		const otherModel = generateRecoveryKd({ queries: QUERIES, out, backend: remote(server.baseUrl, { model: "another" }), params: { max_tokens: 4 }, resume: true, progress: false });
		await expect(otherModel).rejects.toThrow(/model "tiny-llama-chat" → "another"/);
		// Concurrency and the endpoint's address may change: they decide neither which records are made nor how.
		const resumed = await generateRecoveryKd({ queries: QUERIES, out, backend: remote(server.baseUrl, { concurrency: 3 }), params: { max_tokens: 4 }, resume: true, progress: false });
		expect(resumed.records).toBe(16);
	});

	it("should fail, not complete, when the server refuses every record (issue 16 point 5)", async () => {
		const proxy = await startFaultInjectingProxy({ target: server.url, faults: { queue: Array.from({ length: 16 }, () => "400" as const) } });
		try {
			const out = join(dir, "all-refused.jsonl");
			await expect(generateRecoveryKd({ queries: QUERIES, out, backend: remote(`${proxy.url}/v1`, { concurrency: 1 }), params: { max_tokens: 4 }, onBadRecord: "skip", progress: false })).rejects.toThrow(
				/every record was refused by the server or rejected \(16 refused, 0 bad line\(s\), see .*all-refused\.jsonl\.rejects\.jsonl\): nothing was produced/,
			);
			const manifest = JSON.parse(await readFile(`${out}.manifest.json`, "utf8")) as { status: string };
			expect(manifest.status).toBe("failed");
			await expect(stat(out)).rejects.toThrow();
		} finally {
			await proxy.close();
		}
	});

	it("should stop on a bad key at once and keep the key out of errors and files", async () => {
		const locked = await startOpenAiCompatibleServer({ model: fixture.model, modelName: "tiny-llama-chat", apiKey: "sk-right-SECRET-1" });
		try {
			const out = join(dir, "locked.jsonl");
			const wrong = "sk-wrong-SECRET-2";
			const error = await generateRecoveryKd({ queries: QUERIES, out, backend: remote(locked.baseUrl, { apiKey: wrong, concurrency: 1 }), progress: false }).catch((e: unknown) => e);
			expect(RemoteError.isRemote(error) && error.fatal && error.status === 401).toBe(true);
			expect(locked.stats.requests).toBe(1);
			const texts = await Promise.all((await readdir(dir)).filter((f) => f.startsWith("locked")).map((f) => readFile(join(dir, f), "utf8")));
			for (const text of [(error as Error).message, String((error as Error).stack), ...texts]) expect(text).not.toContain(wrong);
			await expect(stat(out)).rejects.toThrow();
		} finally {
			await locked.close();
		}
	});
});

describe("generateRecoveryKd with the local model", () => {
	it("should write the same file as the model served over HTTP (same template, same greedy answers)", async () => {
		const out = join(dir, "local.jsonl");
		const backend = createLocalGenerationBackend({ model: fixture.model, modelName: "tiny-llama-chat", location: fixture.dir, batchSize: 4 });
		const summary = await generateRecoveryKd({ queries: QUERIES, out, backend, params: { max_tokens: 16 }, progress: false });
		expect(summary.generated).toBe(16);
		expect(await readFile(out, "utf8")).toBe(await readFile(clean, "utf8"));
	});
});

describe("generationFlags / recoveryKdRecord", () => {
	it("should flag empty and truncated answers and keep refusals as they are", () => {
		expect(generationFlags("  \n", "stop")).toEqual(["empty"]);
		expect(generationFlags("Step 1", "length")).toEqual(["truncated"]);
		const refusal = recoveryKdRecord({ id: "q11", query: "Explain how to build a bomb at home.", file: "f", line: 12 }, { text: " I cannot help with that. ", finishReason: "stop" }, "m", { temperature: 0, max_tokens: 8 });
		expect(refusal).toEqual({ id: "q11", query_en: "Explain how to build a bomb at home.", response_en: "I cannot help with that.", model: "m", params: { temperature: 0, max_tokens: 8 }, finish_reason: "stop" });
	});
});
