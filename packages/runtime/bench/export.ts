// `pnpm bench` (after `pnpm build`): `transllm export` on a synthetic ~1B-parameter Llama-shaped checkpoint
// (TinyLlama-1.1B's shape, bf16, 4 shards) at fp32 / fp16 / int8 / int4 — time and peak RSS of the export, size,
// and the exported model's load RSS and decode tokens/s through the runtime — beside the peer, transformers +
// torch.onnx.export (the TorchScript exporter Optimum calls; Optimum itself is not installable here). Then the
// quality cost of int8/int4 on a fixture trained in the same run (perplexity on held-out UDHR text vs fp32) and
// its decode speed. Each measured process is a child, so its peak RSS is its own.
// Writes bench/results/export.json and the table between the export-bench markers of the package README.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { open, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, freemem, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pythonRef } from "@transllm/python-ref";
import { udhrParagraphs } from "@transllm/udhr-text";
import { type LlamaArchitecture, buildLlamaFixture, byteBpeTokenizerJson, llamaHfConfig, llamaWeightShapes } from "@transllm/runtime";

const here = fileURLToPath(new URL(".", import.meta.url));
const dist = pathToFileURL(join(here, "..", "dist", "index.js")).href;
/** TinyLlama-1.1B's shape: 1.10B parameters. BENCH_EXPORT_LAYERS scales it down for a quick check. */
const SHAPE = { layers: Number(process.env.BENCH_EXPORT_LAYERS ?? 22), hidden: 2048, heads: 32, kvHeads: 4, intermediate: 5632, vocab: 32000 };
const PRECISIONS = ["fp32", "fp16", "int8", "int4"] as const;
const SHARD_BYTES = 600 * 2 ** 20;
const NEW_TOKENS = Number(process.env.BENCH_EXPORT_NEW_TOKENS ?? 16);
const PROMPT = "All human beings are born free and equal in dignity and rights. They are endowed with reason";
const GiB = 2 ** 30;
const MiB = 2 ** 20;

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Memory the kernel can give without swapping (MemAvailable; page cache counts), else free memory. */
function availableMemory(): number {
	try {
		const line = readFileSync("/proc/meminfo", "utf8").split("\n").find((l) => l.startsWith("MemAvailable:"));
		if (line) return Number(line.replace(/\D+/g, "")) * 1024;
	} catch {
		// not Linux
	}
	return freemem();
}

/** Runs `code` (an ES module) in a child node; returns its last stdout line as JSON. */
function child<T>(code: string): T {
	const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", maxBuffer: 64 * MiB });
	if (run.status !== 0) throw new Error(`child failed (${run.status ?? run.signal}):\n${run.stderr.slice(-4000)}`);
	const lines = run.stdout.trim().split("\n");
	return JSON.parse(lines[lines.length - 1] as string) as T;
}

/** Writes a synthetic bf16 checkpoint, sharded with model.safetensors.index.json, one tensor slice at a time. */
async function writeSyntheticCheckpoint(dir: string, arch: LlamaArchitecture): Promise<number> {
	await mkdir(dir, { recursive: true });
	const shapes = [...llamaWeightShapes(arch)];
	const shards: [string, number[]][][] = [[]];
	let shardSize = 0;
	for (const entry of shapes) {
		const bytes = 2 * entry[1].reduce((a, b) => a * b, 1);
		if (shardSize > 0 && shardSize + bytes > SHARD_BYTES) {
			shards.push([]);
			shardSize = 0;
		}
		(shards[shards.length - 1] as [string, number[]][]).push(entry);
		shardSize += bytes;
	}
	const weightMap: Record<string, string> = {};
	let total = 0;
	let state = 0x9e3779b9;
	const chunk = new Uint16Array(1 << 22);
	const f32 = new Float32Array(1);
	const u32 = new Uint32Array(f32.buffer);
	for (const [s, shard] of shards.entries()) {
		const file = `model-${String(s + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`;
		const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
		let offset = 0;
		for (const [name, shape] of shard) {
			const bytes = 2 * shape.reduce((a, b) => a * b, 1);
			header[name] = { dtype: "BF16", shape, data_offsets: [offset, offset + bytes] };
			weightMap[name] = file;
			offset += bytes;
		}
		let json = JSON.stringify(header);
		json += " ".repeat((8 - (json.length % 8)) % 8);
		const handle = await open(join(dir, file), "w");
		const prefix = Buffer.alloc(8);
		prefix.writeBigUInt64LE(BigInt(json.length));
		await handle.write(prefix);
		await handle.write(json);
		for (const [name, shape] of shard) {
			const count = shape.reduce((a, b) => a * b, 1);
			// Uniform with std 1/√fan_in (1 for the embeddings, 1 ± 0.1 for norm gains): logits of order one.
			const [center, std] = shape.length === 1 ? [1, 0.1] : [0, name.includes("embed") ? 1 : 1 / Math.sqrt(shape[1] as number)];
			const halfWidth = std * Math.sqrt(3);
			for (let done = 0; done < count; done += chunk.length) {
				const n = Math.min(chunk.length, count - done);
				for (let i = 0; i < n; i++) {
					state ^= state << 13;
					state ^= state >>> 17;
					state ^= state << 5;
					f32[0] = center + ((state >>> 0) / 2 ** 32 - 0.5) * 2 * halfWidth;
					chunk[i] = (u32[0] as number) >>> 16; // bf16: the top half of the float32
				}
				await handle.write(chunk.subarray(0, n));
			}
		}
		await handle.close();
		total += offset;
	}
	await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }));
	await writeFile(
		join(dir, "config.json"),
		JSON.stringify({
			...llamaHfConfig(arch),
			rope_parameters: { rope_theta: arch.ropeTheta, rope_type: "default" },
			tie_word_embeddings: false,
			max_position_embeddings: 2048,
			bos_token_id: 1,
			eos_token_id: 2,
			dtype: "bfloat16",
		}),
	);
	await writeFile(join(dir, "tokenizer.json"), JSON.stringify(byteBpeTokenizerJson(arch.vocab)));
	await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ bos_token: "<s>", eos_token: "</s>", tokenizer_class: "PreTrainedTokenizerFast" }));
	return shards.length;
}

interface ExportRun {
	weightBytes: number;
	parameters: number;
	seconds: number;
	maxRssKiB: number;
}

function exportInChild(model: string, out: string, precision: string): ExportRun {
	return child<ExportRun>(`
		const { exportModel } = await import(${JSON.stringify(dist)});
		const result = await exportModel({ model: ${JSON.stringify(model)}, out: ${JSON.stringify(out)}, precision: ${JSON.stringify(precision)}, force: true, progress: false });
		console.log(JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS }));
	`);
}

interface DecodeRun {
	loadSeconds: number;
	rssAfterLoadMiB: number;
	maxRssMiB: number;
	prefillSeconds: number;
	decodeTokensPerSecond: number;
	tokens: number[];
	logits: string;
}

/** Loads an export through the runtime (CPU, no worker) and times greedy decoding at batch 1. */
function decodeInChild(dir: string, newTokens: number, repeats: number): DecodeRun {
	return child<DecodeRun>(`
		const { loadModel } = await import(${JSON.stringify(dist)});
		let start = performance.now();
		const model = await loadModel(${JSON.stringify(dir)}, { worker: false, executionProvider: "cpu" });
		const loadSeconds = (performance.now() - start) / 1000;
		const rssAfterLoadMiB = process.memoryUsage().rss / 2 ** 20;
		const prompts = [${JSON.stringify(PROMPT)}];
		const time = async (n) => { const t = performance.now(); const [r] = await model.generate({ prompts, maxNewTokens: n }); return [(performance.now() - t) / 1000, r]; };
		await time(2);
		let prefill = Infinity, full = Infinity, tokens = [];
		for (let i = 0; i < ${repeats}; i++) {
			prefill = Math.min(prefill, (await time(1))[0]);
			const [seconds, result] = await time(${newTokens + 1});
			full = Math.min(full, seconds);
			tokens = result.tokenIds;
		}
		console.log(JSON.stringify({ loadSeconds, rssAfterLoadMiB, maxRssMiB: process.resourceUsage().maxRSS / 1024, prefillSeconds: prefill,
			decodeTokensPerSecond: ${newTokens} / (full - prefill), tokens, logits: model.logits }));
		await model.dispose();
	`);
}

/** Perplexity of held-out texts through the runtime's in-graph scoring: exp(−Σ log p / tokens). */
function perplexityInChild(dir: string, texts: string[]): { perplexity: number; tokens: number } {
	return child(`
		const { loadModel } = await import(${JSON.stringify(dist)});
		const model = await loadModel(${JSON.stringify(dir)}, { worker: false, executionProvider: "cpu" });
		const scores = await model.score({ pairs: ${JSON.stringify(texts)}.map((text) => ({ prompt: "", response: text })) });
		const tokens = scores.reduce((a, s) => a + s.tokens, 0);
		const sum = scores.reduce((a, s) => a + s.sum, 0);
		console.log(JSON.stringify({ perplexity: Math.exp(-sum / tokens), tokens }));
		await model.dispose();
	`);
}

async function main(): Promise<void> {
	const root = join(tmpdir(), `transllm-export-bench-${process.pid}`);
	await mkdir(root, { recursive: true });
	if (process.env.BENCH_EXPORT_ONLY === "quality") {
		// Reruns only the fixture rows, keeping the 1B rows of the last full run.
		try {
			const results = JSON.parse(await readFile(join(here, "results", "export.json"), "utf8"));
			results.quality = await fixtureQuality(root, pythonRef(["torch", "transformers", "tokenizers"]));
			results.qualityRerun = { loadAverage: loadavg().map((x) => round(x, 2)), command: "BENCH_EXPORT_ONLY=quality pnpm --filter @transllm/runtime bench:export" };
			await writeFile(join(here, "results", "export.json"), `${JSON.stringify(results, null, 2)}\n`);
			await updateReadme(results);
		} finally {
			await rm(root, { recursive: true, force: true });
		}
		return;
	}
	const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / GiB), node: process.version, loadAverageAtStart: loadavg().map((x) => round(x, 2)), availableMemoryGiBAtStart: round(availableMemory() / GiB) };
	try {
		// 1. The ~1B synthetic checkpoint.
		const arch: LlamaArchitecture = { ...SHAPE, headDim: SHAPE.hidden / SHAPE.heads, ropeTheta: 10000, rmsNormEps: 1e-5, tiedEmbeddings: false };
		const checkpoint = join(root, "hf-1b");
		let start = performance.now();
		const shards = await writeSyntheticCheckpoint(checkpoint, arch);
		console.error(`synthetic checkpoint: ${shards} shards in ${round((performance.now() - start) / 1000)} s`);
		let largestTensor = 0;
		for (const shape of llamaWeightShapes(arch).values()) largestTensor = Math.max(largestTensor, shape.reduce((a, b) => a * b, 1));
		const idle = child<{ maxRssKiB: number }>(`await import(${JSON.stringify(dist)}); console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));`);

		const exports = [];
		for (const precision of PRECISIONS) {
			const out = join(root, `onnx-1b-${precision}`);
			const run = exportInChild(checkpoint, out, precision);
			const onDisk = (await stat(join(out, "model.onnx_data"))).size + (await stat(join(out, "model.onnx"))).size;
			console.error(`export ${precision}: ${round(run.seconds)} s, peak RSS ${round(run.maxRssKiB / 1024)} MiB, ${round(onDisk / GiB, 2)} GiB`);
			const decode = decodeInChild(out, NEW_TOKENS, 1);
			console.error(`decode ${precision}: ${round(decode.decodeTokensPerSecond, 2)} tok/s, RSS after load ${round(decode.rssAfterLoadMiB)} MiB`);
			exports.push({
				precision,
				exportSeconds: round(run.seconds),
				exportPeakRssMiB: round(run.maxRssKiB / 1024),
				fileGiB: round(onDisk / GiB, 3),
				bytesPerParameter: round(onDisk / run.parameters, 3),
				loadSeconds: round(decode.loadSeconds),
				rssAfterLoadMiB: round(decode.rssAfterLoadMiB),
				decodePeakRssMiB: round(decode.maxRssMiB),
				decodeTokensPerSecond: round(decode.decodeTokensPerSecond, 2),
				lastTokenLogits: decode.logits,
				tokens: decode.tokens,
				parameters: run.parameters,
			});
			await rm(out, { recursive: true, force: true });
		}
		const fp32Tokens = exports[0]?.tokens ?? [];
		for (const e of exports) Object.assign(e, { sameGreedyTokensAsFp32: e.tokens.join() === fp32Tokens.join() });

		// 2. The peer: transformers from_pretrained (float32) + torch.onnx.export, as Optimum does it.
		const python = pythonRef(["torch", "transformers", "onnx"]);
		let peer: Record<string, unknown>;
		const neededGiB = 4 * (exports[0]?.parameters ?? 0) * 3 / GiB;
		if (!python.ref) peer = { skipped: python.reason };
		else if (availableMemory() / GiB < neededGiB) peer = { skipped: `only ${round(availableMemory() / GiB)} GiB available, the peer needs about ${round(neededGiB)} GiB` };
		else {
			start = performance.now();
			const run = python.ref.run([join(here, "export-peer.py"), checkpoint, join(root, "peer")], { timeoutMs: 1_800_000 });
			peer = JSON.parse(run.stdout.trim().split("\n").pop() as string) as Record<string, unknown>;
			console.error(`peer: ${JSON.stringify(peer)}`);
			await rm(join(root, "peer"), { recursive: true, force: true });
		}
		await rm(checkpoint, { recursive: true, force: true });

		const results: Record<string, unknown> = {
			machine,
			loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
			command: "pnpm build && pnpm --filter @transllm/runtime bench:export",
			model: { shape: SHAPE, parameters: exports[0]?.parameters, checkpoint: `${shards} bf16 safetensors shards`, largestTensorParameters: largestTensor, largestTensorBf16MiB: round((2 * largestTensor) / MiB), largestTensorFp32MiB: round((4 * largestTensor) / MiB) },
			nodeWithRuntimeImportedPeakRssMiB: round(idle.maxRssKiB / 1024),
			exports: exports.map(({ tokens, ...rest }) => rest),
			peer,
			optimumKnownFootprint: {
				source: "https://github.com/huggingface/optimum/pull/1115 (fxmarty, 2023-06-16): the ONNX export's post-processing (merging the decoders) 'still uses x2 the model size in RAM'; https://github.com/huggingface/optimum-intel/issues/1708: optimum-cli's export loads the whole model with from_pretrained and traces it, peak resident set 'roughly double' the bf16 weights",
				impliedPeakRssGiBFor1BFp32: round((2 * 4 * (exports[0]?.parameters ?? 0)) / GiB, 1),
			},
		};
		// Written now and again below: the 1B rows survive a failure of the fixture rows.
		await writeFile(join(here, "results", "export.json"), `${JSON.stringify({ ...results, quality: { skipped: "not run yet" } }, null, 2)}\n`);

		// 3. Quality and speed on fixtures: a tiny Llama trained here on UDHR text, perplexity on held-out articles.
		results.quality = await fixtureQuality(root, python.ref ? python : undefined);
		results.loadAverageAtEnd = loadavg().map((x) => round(x, 2));
		await writeFile(join(here, "results", "export.json"), `${JSON.stringify(results, null, 2)}\n`);
		await updateReadme(results);
	} finally {
		await rm(root, { recursive: true, force: true });
	}
}

async function fixtureQuality(root: string, python: ReturnType<typeof pythonRef> | undefined): Promise<Record<string, unknown>> {
	const english = udhrParagraphs("en").filter((p) => p.length > 80);
	const heldOut = english.filter((_, i) => i % 5 === 4);
	const training = english.filter((_, i) => i % 5 !== 4);
	const dir = join(root, "tiny");
	const out: Record<string, unknown> = { heldOut: `${heldOut.length} UDHR English paragraphs (every 5th), trained on the other ${training.length}` };
	if (!python?.ref) return { ...out, skipped: python?.reason ?? "no Python reference" };
	await mkdir(dir, { recursive: true });
	await writeFile(join(dir, "tokenizer.json"), JSON.stringify(byteBpeTokenizerJson(512)));
	await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ bos_token: "<s>", eos_token: "</s>", tokenizer_class: "PreTrainedTokenizerFast" }));
	await writeFile(join(dir, "train.txt"), training.join("\n"));
	const trained = JSON.parse(python.ref.run([join(here, "export-train-tiny.py"), dir], { timeoutMs: 900_000 }).stdout.trim().split("\n").pop() as string);
	out.training = trained;
	const rows = [];
	for (const precision of PRECISIONS) {
		const onnx = join(root, `tiny-${precision}`);
		exportInChild(dir, onnx, precision);
		const { perplexity, tokens } = perplexityInChild(onnx, heldOut);
		rows.push({ precision, perplexity: round(perplexity, 3), tokens });
	}
	const fp32 = rows[0]?.perplexity ?? 1;
	out.perplexity = rows.map((r) => ({ ...r, ratioToFp32: round(r.perplexity / fp32, 4) }));

	// Decode speed on the runtime benchmark's fixture shape (8 layers, hidden 512, vocab 32000).
	const fixture = await buildLlamaFixture({ dir: join(root, "mid"), layers: 8, hidden: 512, heads: 8, kvHeads: 4, intermediate: 1376, vocab: 32000, seed: 1 });
	const speed = [];
	for (const precision of PRECISIONS) {
		const onnx = join(root, `mid-${precision}`);
		const run = exportInChild(fixture.dir, onnx, precision);
		const decode = decodeInChild(onnx, 32, 2);
		speed.push({ precision, fileMiB: round(run.weightBytes / MiB), decodeTokensPerSecond: round(decode.decodeTokensPerSecond, 1), rssAfterLoadMiB: round(decode.rssAfterLoadMiB) });
	}
	const base = speed[0]?.decodeTokensPerSecond ?? 1;
	out.decodeFixture = { shape: "8 layers, hidden 512, 8 heads / 4 KV heads, vocab 32000 (56M parameters), batch 1, greedy, 32 new tokens, best of 2", rows: speed.map((s) => ({ ...s, ratioToFp32: round(s.decodeTokensPerSecond / base, 2) })) };
	return out;
}

async function updateReadme(results: Record<string, any>): Promise<void> {
	const fp32 = results.exports[0];
	const peer = results.peer;
	const lines = [
		"| precision | export time | export peak RSS | file | bytes / parameter | RSS after load | decode tok/s (batch 1) | greedy tokens = fp32 |",
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
		...results.exports.map((e: any) => `| ${e.precision} | ${e.exportSeconds} s | ${e.exportPeakRssMiB} MiB | ${e.fileGiB} GiB | ${e.bytesPerParameter} | ${e.rssAfterLoadMiB} MiB | ${e.decodeTokensPerSecond} (${round(e.decodeTokensPerSecond / fp32.decodeTokensPerSecond, 2)}× fp32) | ${e.sameGreedyTokensAsFp32 ? "yes" : "no"} |`),
		"",
		peer.skipped
			? `Peer (transformers + torch.onnx.export, as Optimum exports): skipped — ${peer.skipped}.`
			: `Peer, same checkpoint, same run: transformers \`from_pretrained\` (float32) + \`torch.onnx.export\` (the TorchScript exporter Optimum calls; logits-only graph, no KV cache): ${peer.seconds} s, peak RSS ${peer.maxRssMiB} MiB — transllm's fp32 export takes ${round(fp32.exportPeakRssMiB / peer.maxRssMiB, 2)}× its peak RSS and ${round(fp32.exportSeconds / peer.seconds, 2)}× its time.`,
		`Optimum's own footprint (not installable here): its maintainers state that the export's decoder merge "still uses x2 the model size in RAM" ([optimum#1115](https://github.com/huggingface/optimum/pull/1115)); for this model in fp32 that is ≈ ${results.optimumKnownFootprint.impliedPeakRssGiBFor1BFp32} GiB. The largest tensor here is ${results.model.largestTensorFp32MiB} MiB in fp32; a Node process with the runtime imported peaks at ${results.nodeWithRuntimeImportedPeakRssMiB} MiB.`,
		"",
	];
	const q = results.quality;
	if (q.perplexity) {
		lines.push(
			"| precision | held-out perplexity (trained tiny Llama) | × fp32 | decode tok/s (56M fixture) | × fp32 | file (56M fixture) |",
			"| --- | ---: | ---: | ---: | ---: | ---: |",
			...q.perplexity.map((p: any, i: number) => {
				const s = q.decodeFixture.rows[i];
				return `| ${p.precision} | ${p.perplexity} | ${p.ratioToFp32} | ${s.decodeTokensPerSecond} | ${s.ratioToFp32} | ${s.fileMiB} MiB |`;
			}),
			"",
			`Perplexity: ${q.heldOut}; model ${q.training.shape}, ${q.training.steps} steps (final training loss ${q.training.finalLoss}). Decode: ${q.decodeFixture.shape}.`,
			"",
		);
	} else lines.push(`Quality rows skipped: ${q.skipped}.`, "");
	lines.push(`Machine: ${results.machine.cpus} × ${results.machine.cpu}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}; load average ${results.machine.loadAverageAtStart.join(" / ")} at start, ${results.loadAverageAtEnd.join(" / ")} at end (shared machine). Model: ${results.model.shape.layers} layers, hidden ${results.model.shape.hidden}, ${results.model.shape.heads} heads / ${results.model.shape.kvHeads} KV heads, intermediate ${results.model.shape.intermediate}, vocab ${results.model.shape.vocab} (${round(results.model.parameters / 1e9, 2)}B parameters), ${results.model.checkpoint}; decode: batch 1, greedy, ${NEW_TOKENS} new tokens, CPU.`);
	const readmePath = join(here, "..", "README.md");
	const readme = await readFile(readmePath, "utf8");
	const marked = readme.replace(/<!-- export-bench:start -->[\s\S]*<!-- export-bench:end -->/, `<!-- export-bench:start -->\n${lines.join("\n")}\n<!-- export-bench:end -->`);
	if (marked !== readme) await writeFile(readmePath, marked);
	console.log(lines.join("\n"));
}

await main();
