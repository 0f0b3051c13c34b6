// `pnpm --filter @transllm/recovery-kd bench:serve`: `transllm serve`'s server under load, continuous batching against
// today's micro-batching, in the same run on the same model. A load generator of our own over loopback: 64 concurrent
// clients, each streaming (SSE) chat completions with mixed prompt lengths (UDHR text, 10 to ~120 tokens) and answer
// lengths (max_tokens 8, 32 or 96, seeded), greedy. Per request: time to first token (TTFT), inter-token latency (ITL,
// the gaps between content deltas); per run: requests/s and generated tokens/s. Writes bench/results/serve-batching.json.
import { mkdtemp } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { SeededRng, writeJsonAtomic } from "@transllm/core";
import { buildLlamaFixture, loadModel } from "@transllm/runtime";
import { udhrParagraphs } from "../test/udhr-text.js";
import { startOpenAiCompatibleServer } from "@transllm/recovery-kd";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 64);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 192);
const MAX_BATCH = Number(process.env.BENCH_MAX_BATCH ?? 16);
const dir = await mkdtemp(join(tmpdir(), "serve-bench-"));
const arch = { layers: 4, hidden: 256, heads: 8, kvHeads: 4, intermediate: 688, vocab: 8192 };
await buildLlamaFixture({ dir, ...arch, seed: 3 });

const rng = new SeededRng("serve-bench");
const paragraphs = udhrParagraphs("eng").filter((p) => p.length > 40);
const workload = Array.from({ length: REQUESTS }, (_, i) => {
	const text = paragraphs[i % paragraphs.length] as string;
	return { prompt: text.slice(0, 40 + Math.floor(rng.float() * 400)), maxTokens: [8, 32, 96][Math.floor(rng.float() * 3)] as number };
});

const percentile = (values: number[], p: number): number => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
};
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** One streamed request: TTFT and the gaps between content deltas, in ms. */
async function streamed(baseUrl: string, prompt: string, maxTokens: number): Promise<{ ttft: number; gaps: number[]; tokens: number }> {
	const start = performance.now();
	const response = await fetch(`${baseUrl}/chat/completions`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ model: "bench", messages: [{ role: "user", content: prompt }], max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
	});
	if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
	const decoder = new TextDecoder();
	let buffer = "";
	let last: number | undefined;
	let ttft = Number.NaN;
	let tokens = 0;
	const gaps: number[] = [];
	for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
		buffer += decoder.decode(chunk, { stream: true });
		let end: number;
		while ((end = buffer.indexOf("\n\n")) >= 0) {
			const event = buffer.slice(0, end).replace(/^data: /, "");
			buffer = buffer.slice(end + 2);
			if (event === "[DONE]") continue;
			const data = JSON.parse(event) as { choices: { delta?: { content?: string } }[]; usage?: { completion_tokens: number } };
			if (data.usage) tokens = data.usage.completion_tokens;
			if (!data.choices[0]?.delta?.content) continue;
			const now = performance.now();
			if (last === undefined) ttft = now - start;
			else gaps.push(now - last);
			last = now;
		}
	}
	return { ttft, gaps, tokens };
}

async function run(batching: "continuous" | "micro"): Promise<Record<string, unknown>> {
	const model = await loadModel(dir, { executionProvider: "cpu", maxBatch: MAX_BATCH });
	const server = await startOpenAiCompatibleServer({ model, modelName: "bench", batching, maxBatch: MAX_BATCH, tcot: false });
	// Warm-up: sessions created, JIT warm.
	await Promise.all(workload.slice(0, 4).map((w) => streamed(server.baseUrl, w.prompt, 4)));
	const load = loadavg()[0];
	const ttfts: number[] = [];
	const gaps: number[] = [];
	let tokens = 0;
	let next = 0;
	const start = performance.now();
	await Promise.all(
		Array.from({ length: CLIENTS }, async () => {
			while (next < workload.length) {
				const item = workload[next++] as (typeof workload)[number];
				const result = await streamed(server.baseUrl, item.prompt, item.maxTokens);
				ttfts.push(result.ttft);
				gaps.push(...result.gaps);
				tokens += result.tokens;
			}
		}),
	);
	const seconds = (performance.now() - start) / 1000;
	await server.close();
	await model.dispose();
	return {
		batching,
		requests: workload.length,
		seconds: round(seconds),
		requests_per_s: round(workload.length / seconds),
		tokens_per_s: round(tokens / seconds, 1),
		ttft_ms: { p50: round(percentile(ttfts, 50), 1), p99: round(percentile(ttfts, 99), 1) },
		itl_ms: { p50: round(percentile(gaps, 50), 1), p99: round(percentile(gaps, 99), 1) },
		load_avg_1m_at_start: round(load ?? 0),
	};
}

// Alternating rounds (micro-batching first in each), so that a slower stretch of the shared machine falls on both
// schemes; each scheme's row is its median round by requests/s, and every round's requests/s is kept.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const rounds: { micro: Record<string, unknown>[]; continuous: Record<string, unknown>[] } = { micro: [], continuous: [] };
for (let r = 0; r < ROUNDS; r++) {
	rounds.micro.push(await run("micro"));
	rounds.continuous.push(await run("continuous"));
}
const medianRound = (runs: Record<string, unknown>[]) => [...runs].sort((a, b) => (a.requests_per_s as number) - (b.requests_per_s as number))[Math.floor(runs.length / 2)] as Record<string, unknown>;
const micro: Record<string, unknown> = { ...medianRound(rounds.micro), rounds_requests_per_s: rounds.micro.map((run) => run.requests_per_s) };
const continuous: Record<string, unknown> = { ...medianRound(rounds.continuous), rounds_requests_per_s: rounds.continuous.map((run) => run.requests_per_s) };
const ratio = (a: number, b: number) => round(a / b);
const result = {
	benchmark: "transllm serve under load: continuous batching vs micro-batching (same model, same run)",
	conditions: {
		clients: CLIENTS,
		requests: REQUESTS,
		max_batch: MAX_BATCH,
		rounds: `${ROUNDS} alternating rounds (micro-batching, then continuous); each row is the scheme's median round by requests/s`,
		model: `tiny Llama fixture, ${arch.layers} layers, hidden ${arch.hidden}, ${arch.heads} heads (${arch.kvHeads} KV), vocab ${arch.vocab}, fp32, CPU`,
		prompts: "UDHR English paragraphs cut to 40-440 characters (seeded)",
		answers: "max_tokens 8, 32 or 96 (seeded), greedy, SSE",
		machine: { cpus: cpus().length, node: process.version, note: "shared 2-core machine; load generator and server in one process, model in its worker thread" },
	},
	date: new Date().toISOString(),
	runs: [micro, continuous],
	continuous_vs_micro: {
		requests_per_s: ratio(continuous.requests_per_s as number, micro.requests_per_s as number),
		requests_per_s_per_round: rounds.micro.map((run, r) => ratio(rounds.continuous[r]?.requests_per_s as number, run.requests_per_s as number)),
		ttft_p50: ratio((continuous.ttft_ms as { p50: number }).p50, (micro.ttft_ms as { p50: number }).p50),
		ttft_p99: ratio((continuous.ttft_ms as { p99: number }).p99, (micro.ttft_ms as { p99: number }).p99),
		itl_p50: ratio((continuous.itl_ms as { p50: number }).p50, (micro.itl_ms as { p50: number }).p50),
		itl_p99: ratio((continuous.itl_ms as { p99: number }).p99, (micro.itl_ms as { p99: number }).p99),
	},
};
const out = join(import.meta.dirname ?? ".", "results", "serve-batching.json");
await writeJsonAtomic(out, result);
console.log(JSON.stringify(result, null, 2));
