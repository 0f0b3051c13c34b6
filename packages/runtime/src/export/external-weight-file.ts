import { open } from "node:fs/promises";
import type { OnnxTensor } from "../onnx/onnx-proto.js";
import { EXTERNAL } from "../onnx/external-data.js";
import { type GraphWeight, type LlamaWeightSource, encodeGraphWeight, graphWeightTensors } from "../fixture/llama-graph-weights.js";

/** ONNX Runtime memory-maps external data whose offsets are page aligned. */
const ALIGNMENT = 4096;

/**
 * A weight source that lays the graph's initializers out in one external data file (`location`, beside the
 * model) while the graph is built, and writes their bytes afterwards, one weight at a time: the graph holds
 * only locations, and `write` reads, converts and writes each tensor before it touches the next.
 */
export class ExternalWeightFile implements LlamaWeightSource {
	readonly entries: { weight: GraphWeight; offsets: number[] }[] = [];
	private size = 0;

	constructor(readonly location: string) {}

	tensors(weight: GraphWeight): OnnxTensor[] {
		const offsets: number[] = [];
		const tensors = graphWeightTensors(weight).map((meta) => {
			const offset = Math.ceil(this.size / ALIGNMENT) * ALIGNMENT;
			this.size = offset + meta.byteLength;
			offsets.push(offset);
			return {
				name: meta.name,
				dataType: meta.dataType,
				dims: meta.dims,
				dataLocation: EXTERNAL,
				externalData: [
					{ key: "location", value: this.location },
					{ key: "offset", value: String(offset) },
					{ key: "length", value: String(meta.byteLength) },
				],
			};
		});
		this.entries.push({ weight, offsets });
		return tensors;
	}

	/** Bytes of the data file. */
	get byteLength(): number {
		return this.size;
	}

	/** Bytes the first `count` weights take in the file (their parts and the alignment before them). */
	bytesBefore(count: number): number {
		let bytes = 0;
		for (const { weight } of this.entries.slice(0, count)) bytes += graphWeightTensors(weight).reduce((sum, meta) => sum + meta.byteLength, 0);
		return bytes;
	}

	/**
	 * Writes every weight's bytes to `path`; `read` returns a weight's values in the Hugging Face layout. Weights sit
	 * at fixed offsets, so a write can start at weight `from` of a file whose earlier weights are durable (resume);
	 * `onDurable(n)` is called after a sync once the first n weights are on disk (about every `syncBytes`).
	 */
	async write(
		path: string,
		read: (source: string) => Promise<Float32Array>,
		onWeight?: (weight: GraphWeight, bytes: number) => void,
		options: { from?: number; syncBytes?: number; onDurable?: (weights: number) => Promise<void> } = {},
	): Promise<void> {
		const from = options.from ?? 0;
		const syncBytes = options.syncBytes ?? 256 * 2 ** 20;
		const handle = await open(path, from > 0 ? "r+" : "w");
		let unsynced = 0;
		try {
			for (const [index, { weight, offsets }] of this.entries.entries()) {
				if (index < from) continue;
				const parts = encodeGraphWeight(weight, await read(weight.source));
				let bytes = 0;
				for (const [k, part] of parts.entries()) {
					for (let done = 0; done < part.byteLength; ) {
						const { bytesWritten } = await handle.write(part, done, part.byteLength - done, (offsets[k] as number) + done);
						done += bytesWritten;
					}
					bytes += part.byteLength;
				}
				onWeight?.(weight, bytes);
				unsynced += bytes;
				if (options.onDurable && unsynced >= syncBytes && index + 1 < this.entries.length) {
					await handle.datasync();
					await options.onDurable(index + 1);
					unsynced = 0;
				}
			}
			await handle.truncate(this.size);
			await handle.sync();
		} finally {
			await handle.close();
		}
	}
}
