import { PassThrough } from "node:stream";
import { runCli } from "@transllm/core";
import { runtimeCommands } from "../src/cli.js";
// Helpers shared by the graph-side tests (ONNX codec, fixture, reference forward, graph surgery).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { LlamaArchitecture } from "../src/fixture/index.js";

export async function tempDir(label: string): Promise<string> {
	return mkdtemp(join(tmpdir(), `transllm-${label}-`));
}

/** HF's left-padding position ids: cumsum(mask) - 1, and 1 at the pads. */
export function positionsFromMask(mask: readonly (readonly number[])[], offset: readonly number[] = []): number[][] {
	return mask.map((row, b) => {
		let running = offset[b] ?? 0;
		return row.map((m) => (m ? running++ : 1));
	});
}

export function int64(rows: readonly (readonly number[])[]): ort.Tensor {
	return new ort.Tensor(
		"int64",
		BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
		[rows.length, rows[0]?.length ?? 0],
	);
}

/** Feeds of one decoder step: ids, mask (covering past + new), positions, and the past cache (empty when absent). */
export function decoderFeeds(params: {
	arch: LlamaArchitecture;
	inputIds: number[][];
	attentionMask: number[][];
	positionIds: number[][];
	past?: Record<string, ort.Tensor>;
}): Record<string, ort.Tensor> {
	const { arch } = params;
	const feeds: Record<string, ort.Tensor> = {
		input_ids: int64(params.inputIds),
		attention_mask: int64(params.attentionMask),
		position_ids: int64(params.positionIds),
	};
	for (let i = 0; i < arch.layers; i++) {
		for (const kind of ["key", "value"]) {
			feeds[`past_key_values.${i}.${kind}`] =
				params.past?.[`present.${i}.${kind}`] ??
				new ort.Tensor("float32", new Float32Array(0), [params.inputIds.length, arch.kvHeads, 0, arch.headDim]);
		}
	}
	return feeds;
}

/** The present.* outputs of a run, keyed by name (to feed as the next step's past). */
export function presents(outputs: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
	return Object.fromEntries(Object.entries(outputs).filter(([name]) => name.startsWith("present.")));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
	if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
	let max = 0;
	for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
	return max;
}

/** Row `index` of length `width` of a flat array. */
export function row(data: ArrayLike<number>, index: number, width: number): number[] {
	return Array.from({ length: width }, (_, i) => data[index * width + i] as number);
}

export function argmax(values: ArrayLike<number>, offset = 0, length = values.length): number {
	let best = 0;
	for (let i = 1; i < length; i++) if ((values[offset + i] as number) > (values[offset + best] as number)) best = i;
	return best;
}

/** Runs `transllm <args>` through the runtime's command table in this process and collects its output. */
export async function runtimeCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	const stdout = new PassThrough();
	const stderr = new PassThrough();
	const out: string[] = [];
	const err: string[] = [];
	stdout.on("data", (chunk) => out.push(String(chunk)));
	stderr.on("data", (chunk) => err.push(String(chunk)));
	const code = await runCli("transllm", runtimeCommands, args, { context: { stdout, stderr } });
	return { code, stdout: out.join(""), stderr: err.join("") };
}
