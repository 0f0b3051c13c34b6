import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenAiGenerationBackend, generateRecoveryKd, startFaultInjectingProxy, startOpenAiCompatibleServer } from "../src/index.js";
import type { FaultInjectingProxy, OpenAiCompatibleServer, RunManifest } from "../src/index.js";
import { lineCount, runKdCli, waitFor } from "./cli-helpers.js";
import { tinyChatModel } from "./model-fixture.js";
import { udhrParagraphs } from "./udhr-text.js";

const KEY = "sk-served-SECRET-777";
let fixture: Awaited<ReturnType<typeof tinyChatModel>>;
let server: OpenAiCompatibleServer;
let proxy: FaultInjectingProxy;
let dir: string;
let queries: string;

beforeAll(async () => {
	fixture = await tinyChatModel();
	server = await startOpenAiCompatibleServer({ model: fixture.model, modelName: "tiny-llama-chat", apiKey: KEY });
	// 20 ms of latency per request, as a remote server has: the run lasts long enough to be killed mid-way.
	proxy = await startFaultInjectingProxy({ target: server.url, latencyMs: 20 });
	dir = await mkdtemp(join(tmpdir(), "kd-gen-cli-"));
	queries = join(dir, "queries.jsonl");
	const sentences = udhrParagraphs("eng").flatMap((p) => p.split(/(?<=\.) /)).slice(0, 60);
	await writeFile(queries, `${sentences.map((s, i) => JSON.stringify({ instruction: `Explain this sentence in simple words: ${s}`, input: i % 3 === 0 ? "Answer briefly." : "" })).join("\n")}\n`);
});
afterAll(async () => {
	await proxy?.close();
	await server?.close();
	await fixture?.model.dispose();
});

const generateArgs = (out: string, extra: string[] = []) => ["kd", "generate", "--queries", queries, "--endpoint", `${proxy.url}/v1`, "--model-name", "tiny-llama-chat", "--out", out, "--max-tokens", "12", "--concurrency", "3", ...extra];

describe("transllm kd generate (child process)", () => {
	it("should resume after SIGKILL to a file equal byte for byte to an uninterrupted run's", async () => {
		const env = { TRANSLLM_API_KEY: KEY };
		const clean = join(dir, "clean.jsonl");
		const first = await runKdCli(generateArgs(clean), env).done;
		expect(first.code, first.stderr).toBe(0);
		expect(await lineCount(clean)).toBe(60);

		const out = join(dir, "killed.jsonl");
		const killed = runKdCli(generateArgs(out), env);
		await waitFor(async () => (await lineCount(`${out}.partial`)) >= 12);
		killed.child.kill("SIGKILL");
		const dead = await killed.done;
		expect(dead.signal).toBe("SIGKILL");
		await expect(stat(out)).rejects.toThrow();
		expect(await lineCount(`${out}.partial`)).toBeLessThan(60);

		const resumed = await runKdCli(generateArgs(out, ["--resume"]), env).done;
		expect(resumed.code, resumed.stderr).toBe(0);
		expect(await readFile(out, "utf8")).toBe(await readFile(clean, "utf8"));
		const manifest = JSON.parse(await readFile(`${out}.manifest.json`, "utf8")) as RunManifest;
		expect(manifest.runs.map((r) => r.status)).toEqual(["running", "complete"]);
		expect((manifest.runs[1]?.resumedRecords ?? 0) + (manifest.runs[1]?.producedRecords ?? 0)).toBe(60);
		for (const text of [first.stdout, first.stderr, resumed.stdout, resumed.stderr, JSON.stringify(manifest)]) expect(text).not.toContain(KEY);
		// A finished output is left alone by --resume.
		const again = await runKdCli(generateArgs(out, ["--resume"]), env).done;
		expect(again.code).toBe(0);
		expect(JSON.parse(again.stdout)).toMatchObject({ generated: 0, records: 60 });
	});

	it("should generate with a local model directory the same records as through the endpoint", async () => {
		const out = join(dir, "local.jsonl");
		const local = await runKdCli(["kd", "generate", "--queries", queries, "--model", fixture.dir, "--execution-provider", "cpu", "--out", out, "--max-tokens", "12", "--limit", "4", "--quiet"]).done;
		expect(local.code, local.stderr).toBe(0);
		const reference = join(dir, "reference.jsonl");
		const backend = createOpenAiGenerationBackend({ endpoint: server.baseUrl, model: "tiny-llama-chat", apiKey: KEY });
		await generateRecoveryKd({ queries, out: reference, backend, params: { max_tokens: 12 }, limit: 4, progress: false });
		expect(await readFile(out, "utf8")).toBe(await readFile(reference, "utf8"));
		const manifest = JSON.parse(await readFile(`${out}.manifest.json`, "utf8")) as RunManifest;
		expect(manifest.settings).toMatchObject({ backend: "local", model: "tiny-llama-chat", limit: 4 });
	});

	it("should explain bad flags", async () => {
		const both = await runKdCli(["kd", "generate", "--queries", queries, "--model", fixture.dir, "--endpoint", "http://127.0.0.1:1/v1", "--out", join(dir, "x.jsonl")]).done;
		expect(both.code).toBe(2);
		expect(both.stderr).toContain("exactly one of --model, --endpoint");
		const noName = await runKdCli(["kd", "generate", "--queries", queries, "--endpoint", "http://127.0.0.1:1/v1", "--out", join(dir, "y.jsonl")]).done;
		expect(noName.stderr).toContain("--model-name");
		const help = await runKdCli(["kd", "generate", "--help"]).done;
		for (const flag of ["--queries", "--model <dir>", "--endpoint <url>", "--model-name <name>", "--out <file>", "--concurrency", "--resume", "--limit"]) expect(help.stdout).toContain(flag);
	});
});

describe("transllm serve (child process)", () => {
	it("should serve a model directory over the OpenAI API until SIGTERM", async () => {
		const served = runKdCli(["serve", "--model", fixture.dir, "--port", "0", "--execution-provider", "cpu"]);
		await waitFor(async () => served.child.exitCode !== null || served.stdout().includes("serving"));
		const base = /at (http:\/\/\S+)/.exec(served.stdout())?.[1] as string;
		const client = new OpenAI({ baseURL: base, apiKey: "none", maxRetries: 0 });
		expect((await client.models.list()).data.map((m) => m.id)).toEqual(["tiny-llama-chat"]);
		const answer = await client.chat.completions.create({ model: "tiny-llama-chat", messages: [{ role: "user", content: "Hello" }], temperature: 0, max_tokens: 4 });
		expect(answer.choices[0]?.message.role).toBe("assistant");
		served.child.kill("SIGTERM");
		const done = await served.done;
		expect(done.code).toBe(0);
		expect(done.stderr).toContain("POST /v1/chat/completions 200");
	});
});
