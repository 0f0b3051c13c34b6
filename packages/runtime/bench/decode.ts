// `pnpm --filter @transllm/runtime bench:decode` (after `pnpm build`): decode and prompt throughput of the runtime
// (host loop and in-graph loop, in its worker) against a plain Python onnxruntime loop (bench/ort-loop-peer.py) on
// the same model.onnx, interleaved in the same run; and the peak RSS of one process that generates only vs one that
// also runs the in-graph loop, scoring, hidden states and the logit lens (each in its own child process).
// Writes bench/results/decode.json and the table between the decode-bench markers of the package README.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { pythonRef } from "@transllm/python-ref";
import { udhrParagraphs } from "@transllm/udhr-text";
import { buildLlamaFixture, loadModel } from "@transllm/runtime";
import type { ChatModel, GenerationResult } from "@transllm/runtime";

const here = fileURLToPath(new URL(".", import.meta.url));
const FIXTURE = { layers: 8, hidden: 512, heads: 8, kvHeads: 4, intermediate: 1376, vocab: 32000, seed: 1 };
const LARGE_FIXTURE = { layers: 16, hidden: 1024, heads: 16, kvHeads: 4, intermediate: 2816, vocab: 32000, seed: 2 };
const BATCHES = (process.env.BENCH_BATCHES ?? "1,8,32").split(",").map(Number);
const NEW_TOKENS = Number(process.env.BENCH_NEW_TOKENS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CHUNK_STEPS = 8;
// One intra-op thread on each side: on a shared 2-core machine, spinning pools of two processes disturb each other.
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
// BENCH_MEMORY=0: throughput rows only (printed, nothing written), for a quick look while changing the runtime.

const english = udhrParagraphs("en").filter((p) => p.length > 200);
const promptsFor = (batch: number): string[] => Array.from({ length: batch }, (_, i) => (english[i % english.length] as string).slice(0, 200));
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const load = (): number[] => loadavg().map((x) => round(x, 2));

/** Child mode: load the model, run `uses`, print the peak RSS (MiB) as JSON. */
async function memoryChild(dir: string, uses: string): Promise<void> {
	const model = await loadModel(dir, { executionProvider: "auto", chunkSteps: CHUNK_STEPS, threads: THREADS });
	const prompts = promptsFor(8);
	for (const use of uses.split(",")) {
		if (use === "generate") await model.generate({ prompts, maxNewTokens: 16 });
		if (use === "graph") await model.generate({ prompts, maxNewTokens: 16, decodeLoop: "graph" });
		if (use === "score") await model.score({ pairs: prompts.map((prompt) => ({ prompt, response: prompt })) });
		if (use === "hidden") await model.hiddenStates({ prompts });
		if (use === "lens") await model.logitLens({ prompts, tokenSets: [[1, 2, 3]] });
	}
	const peakRssMiB = process.resourceUsage().maxRSS / 1024;
	await model.dispose();
	console.log(JSON.stringify({ uses, peakRssMiB: round(peakRssMiB) }));
}

/** Samples of one process's peak RSS, each from a fresh child. */
const memorySamples: Record<string, number[]> = {};

/** Median peak RSS of three fresh child processes (a single process's peak varies by a few hundred MiB between runs). */
function peakRss(dir: string, uses: string): number {
	const samples: number[] = [];
	for (let i = 0; i < 3; i++) {
		const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--memory", dir, uses], { encoding: "utf8" });
		if (child.status !== 0) throw new Error(`memory child (${uses}) failed: ${child.stderr}`);
		samples.push((JSON.parse(child.stdout.trim().split("\n").pop() as string) as { peakRssMiB: number }).peakRssMiB);
	}
	memorySamples[`${dir.includes("large") ? "larger model: " : ""}${uses}`] = samples;
	return [...samples].sort((a, b) => a - b)[1] as number;
}

/** The Python peer, kept running so that its runs interleave with the runtime's. */
interface Timing {
	seconds: number;
	cpuSeconds: number;
}
interface PeerReply extends Timing {
	tokens: number[][];
	peakRssMiB: number;
}

function startPeer(python: string): { generate(request: object): Promise<PeerReply>; stop(): void } {
	const child = spawn(python, [join(here, "ort-loop-peer.py")], { stdio: ["pipe", "pipe", "inherit"] });
	const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
	return {
		async generate(request) {
			child.stdin.write(`${JSON.stringify(request)}\n`);
			const { value, done } = await lines.next();
			if (done) throw new Error("the Python peer exited");
			return JSON.parse(value as string);
		},
		stop: () => child.stdin.end(),
	};
}

/** Wall and CPU time of a call; the CPU time is the whole process's (the model's worker thread included). */
async function timed(run: () => Promise<unknown>): Promise<Timing> {
	const cpu = process.cpuUsage();
	const start = performance.now();
	await run();
	const used = process.cpuUsage(cpu);
	return { seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** Median and range of per-round figures. */
interface Spread {
	median: number;
	min: number;
	max: number;
}
function spread(values: number[], digits: number): Spread {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
	return { median: round(median, digits), min: round(sorted[0] as number, digits), max: round(sorted[sorted.length - 1] as number, digits) };
}
const showRatio = (x: Spread): string => `${x.median}× (${x.min}–${x.max})`;
const timing = (x: Timing): Timing => ({ seconds: x.seconds, cpuSeconds: x.cpuSeconds });

async function main(): Promise<void> {
	const { ref, reason } = pythonRef(["onnxruntime", "numpy"]);
	if (!ref) throw new Error(`the Python peer needs the reference environment: ${reason}`);
	const python = ref.python;
	const version = spawnSync(python, ["-c", "import onnxruntime; print(onnxruntime.__version__)"], { encoding: "utf8" }).stdout.trim();
	const loadAtStart = load();
	const dir = join(tmpdir(), `transllm-decode-bench-${process.pid}`);
	const fixture = await buildLlamaFixture({ dir, ...FIXTURE });
	const parameters = [...fixture.weights.values()].reduce((a, w) => a + w.length, 0);
	const peer = startPeer(python);
	const model: ChatModel = await loadModel(dir, { executionProvider: "auto", chunkSteps: CHUNK_STEPS, threads: THREADS });
	const info = model.info;
	const request = (prompts: number[][], newTokens: number) => ({
		model: join(dir, "model.onnx"),
		layers: info.layers,
		kvHeads: info.kvHeads,
		headDim: info.headDim,
		prompts,
		newTokens,
		padId: model.eosTokenIds[0] ?? 0,
		eosIds: model.eosTokenIds,
		threads: THREADS,
	});
	// Warm-up: sessions, arenas, JIT.
	const warm = promptsFor(2);
	await model.generate({ prompts: warm, maxNewTokens: 4 });
	await model.generate({ prompts: warm, maxNewTokens: 4, decodeLoop: "graph" });
	await peer.generate(request(warm.map((p) => model.tokenizer.encode(p)), 4));

	const generation = [];
	let peerPeakRssMiB = 0;
	for (const batch of BATCHES) {
		const prompts = promptsFor(batch);
		const ids = prompts.map((p) => model.tokenizer.encode(p));
		const promptTokens = ids.reduce((a, p) => a + p.length, 0);
		let ours: GenerationResult[] = [];
		let peerTokens: number[][] = [];
		let sameTokens = true;
		const runs: Record<"hostPrefill" | "hostTotal" | "graphTotal" | "peerPrefill" | "peerTotal", Timing[]> = { hostPrefill: [], hostTotal: [], graphTotal: [], peerPrefill: [], peerTotal: [] };
		// Rounds interleave the contenders, so a burst of load on the shared machine hits both; each round gives a ratio.
		for (let r = 0; r < ROUNDS; r++) {
			runs.hostPrefill.push(await timed(() => model.generate({ prompts, maxNewTokens: 1, batchSize: batch })));
			runs.peerPrefill.push(timing(await peer.generate(request(ids, 1))));
			runs.hostTotal.push(await timed(async () => (ours = await model.generate({ prompts, maxNewTokens: NEW_TOKENS, batchSize: batch }))));
			const peerRun = await peer.generate(request(ids, NEW_TOKENS));
			runs.peerTotal.push(timing(peerRun));
			peerTokens = peerRun.tokens;
			peerPeakRssMiB = Math.max(peerPeakRssMiB, peerRun.peakRssMiB);
			let graph: GenerationResult[] = [];
			runs.graphTotal.push(await timed(async () => (graph = await model.generate({ prompts, maxNewTokens: NEW_TOKENS, batchSize: batch, decodeLoop: "graph" }))));
			const tokens = JSON.stringify(peerTokens);
			sameTokens &&= JSON.stringify(ours.map((g) => g.tokenIds)) === tokens && JSON.stringify(graph.map((g) => g.tokenIds)) === tokens;
		}
		const newTokens = ours.reduce((a, g) => a + g.tokenIds.length, 0);
		const decoded = newTokens - batch; // tokens after the first, which the prefill run produces
		// Per round: decode rate = tokens after the first / (full generation − 1-token generation) of that round.
		const perRound = (key: keyof Timing) =>
			runs.hostTotal.map((_, r) => {
				const at = (name: keyof typeof runs) => (runs[name][r] as Timing)[key];
				const host = decoded / (at("hostTotal") - at("hostPrefill"));
				const graph = decoded / (at("graphTotal") - at("hostPrefill"));
				const python = decoded / (at("peerTotal") - at("peerPrefill"));
				return { host, graph, python, prompt: promptTokens / at("hostPrefill"), pythonPrompt: promptTokens / at("peerPrefill") };
			});
		// Wall-clock: from the medians of the rounds' times (a round's 1-token generation can outlast its full one when a
		// neighbour's burst hits it, which makes per-round wall-clock ratios meaningless on this machine).
		const median = (name: keyof typeof runs) => spread(runs[name].map((x) => x.seconds), 6).median;
		const wall = {
			host: decoded / (median("hostTotal") - median("hostPrefill")),
			graph: decoded / (median("graphTotal") - median("hostPrefill")),
			python: decoded / (median("peerTotal") - median("peerPrefill")),
		};
		const summary = (key: keyof Timing) => {
			const rounds = perRound(key);
			const of = (pick: (x: (typeof rounds)[number]) => number, digits = 1) => spread(rounds.map(pick), digits);
			return {
				runtimeHostLoop: of((x) => x.host),
				runtimeGraphLoop: of((x) => x.graph),
				pythonOrtLoop: of((x) => x.python),
				promptRuntime: of((x) => x.prompt),
				promptPythonOrtLoop: of((x) => x.pythonPrompt),
				ratio: {
					decodeHostLoop: of((x) => x.host / x.python, 2),
					decodeGraphLoop: of((x) => x.graph / x.python, 2),
					prompt: of((x) => x.prompt / x.pythonPrompt, 2),
				},
			};
		};
		const row = {
			batch,
			promptTokens,
			newTokens,
			sameTokensAsPeer: sameTokens,
			perCpuSecond: summary("cpuSeconds"),
			perSecondFromMedians: {
				runtimeHostLoop: round(wall.host),
				runtimeGraphLoop: round(wall.graph),
				pythonOrtLoop: round(wall.python),
				ratio: { decodeHostLoop: round(wall.host / wall.python, 2), decodeGraphLoop: round(wall.graph / wall.python, 2) },
			},
			loadAverage: load(),
			runs,
		};
		console.error(JSON.stringify({ batch, perCpuSecond: row.perCpuSecond, load: load() }));
		generation.push(row);
	}
	await model.dispose();
	peer.stop();
	if (process.env.BENCH_MEMORY === "0") return; // a quick look at throughput: nothing written

	const memory = {
		generateOnly: peakRss(dir, "generate"),
		allFour: peakRss(dir, "generate,score,hidden,lens"),
		allFourAndGraphLoop: peakRss(dir, "generate,score,hidden,lens,graph"),
	};
	const memoryRow = { peakRssMiB: memory, pythonPeerPeakRssMiB: round(peerPeakRssMiB), ratio: round(memory.allFour / memory.generateOnly, 2), ratioWithGraphLoop: round(memory.allFourAndGraphLoop / memory.generateOnly, 2) };
	console.error(JSON.stringify(memoryRow));
	rmSync(dir, { recursive: true, force: true });
	// The same on a model whose weights outweigh scoring's [batch, tokens, vocab] working tensors, as real models' do.
	const largeDir = join(tmpdir(), `transllm-decode-bench-large-${process.pid}`);
	const large = await buildLlamaFixture({ dir: largeDir, ...LARGE_FIXTURE });
	const largeParameters = [...large.weights.values()].reduce((a, w) => a + w.length, 0);
	const largeMemory = { generateOnly: peakRss(largeDir, "generate"), allFour: peakRss(largeDir, "generate,score,hidden,lens") };
	const largeRow = { model: { ...LARGE_FIXTURE, parameters: largeParameters }, peakRssMiB: largeMemory, ratio: round(largeMemory.allFour / largeMemory.generateOnly, 2) };
	console.error(JSON.stringify(largeRow));
	rmSync(largeDir, { recursive: true, force: true });

	const results = {
		command: "pnpm build && pnpm --filter @transllm/runtime bench:decode",
		machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage: { start: loadAtStart, end: load() } },
		threads: THREADS,
		peer: `Python onnxruntime ${version} + numpy greedy loop (bench/ort-loop-peer.py) on the same model.onnx, same run, interleaved`,
		executionProvider: { name: "cpu" },
		model: { ...FIXTURE, parameters, dtype: "fp32", decoding: "greedy", newTokens: NEW_TOKENS, chunkSteps: CHUNK_STEPS },
		generation,
		memory: memoryRow,
		memoryLargerModel: largeRow,
		memorySamplesMiB: memorySamples,
	};
	mkdirSync(join(here, "results"), { recursive: true });
	writeFileSync(join(here, "results", "decode.json"), `${JSON.stringify(results, null, 2)}\n`);

	const table = [
		"| batch | prompt tok/CPU-s runtime | prompt tok/CPU-s Python ORT | prompt runtime ÷ Python | decode tok/CPU-s runtime host loop | decode tok/CPU-s runtime in-graph loop | decode tok/CPU-s Python ORT loop | host ÷ Python | in-graph ÷ Python | wall-clock host ÷ Python | same tokens |",
		"| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
		...generation.map((r) => {
			const c = r.perCpuSecond;
			return `| ${r.batch} | ${c.promptRuntime.median} | ${c.promptPythonOrtLoop.median} | ${showRatio(c.ratio.prompt)} | ${c.runtimeHostLoop.median} | ${c.runtimeGraphLoop.median} | ${c.pythonOrtLoop.median} | ${showRatio(c.ratio.decodeHostLoop)} | ${showRatio(c.ratio.decodeGraphLoop)} | ${r.perSecondFromMedians.ratio.decodeHostLoop}× | ${r.sameTokensAsPeer ? "yes" : "no"} |`;
		}),
		"",
		`Peak RSS of one process: generate only ${memory.generateOnly} MiB; generate + score + hidden states + logit lens ${memory.allFour} MiB (${memoryRow.ratio}×); with the in-graph loop too ${memory.allFourAndGraphLoop} MiB (${memoryRow.ratioWithGraphLoop}×); weights ${round((parameters * 4) / 2 ** 20)} MiB. Larger model (${LARGE_FIXTURE.layers} layers, hidden ${LARGE_FIXTURE.hidden}, ${round(largeParameters / 1e6, 0)}M parameters, ${round((largeParameters * 4) / 2 ** 20)} MiB): generate only ${largeMemory.generateOnly} MiB, all four ${largeMemory.allFour} MiB (${largeRow.ratio}×). Each: 8 prompts of ~50 tokens, 16 new tokens; scoring 8 pairs of ~50 + ~50 tokens; median of 3 processes.`,
		"",
		`Machine: ${results.machine.cpus} × ${results.machine.cpu}, Node ${process.version}, load average ${loadAtStart.join(" / ")} at start, ${results.machine.loadAverage.end.join(" / ")} at end (shared); ${THREADS} intra-op thread(s) on both sides, graph optimization "all" on both; CPU memory arena and memory pattern on both (onnxruntime's defaults, what a user's script gets); peer: Python onnxruntime ${version} + numpy; model ${FIXTURE.layers} layers, hidden ${FIXTURE.hidden}, ${FIXTURE.heads} heads / ${FIXTURE.kvHeads} KV heads, vocab ${FIXTURE.vocab} (${round(parameters / 1e6, 0)}M parameters, fp32), greedy, ${NEW_TOKENS} new tokens, in-graph chunks of ${CHUNK_STEPS}; ${ROUNDS} interleaved rounds per batch, each giving a ratio: median (min–max) of the rounds; rates are medians; CPU.`,
	].join("\n");
	const readmePath = join(here, "..", "README.md");
	const readme = readFileSync(readmePath, "utf8");
	const marked = readme.replace(/<!-- decode-bench:start -->[\s\S]*<!-- decode-bench:end -->/, `<!-- decode-bench:start -->\n${table}\n<!-- decode-bench:end -->`);
	if (marked !== readme) writeFileSync(readmePath, marked);
	console.log(table);
}

if (process.argv[2] === "--memory") await memoryChild(process.argv[3] as string, process.argv[4] as string);
else await main();
