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

	/** Writes every weight's bytes to `path`; `read` returns a weight's values in the Hugging Face layout. */
	async write(
		path: string,
		read: (source: string) => Promise<Float32Array>,
		onWeight?: (weight: GraphWeight, bytes: number) => void,
	): Promise<void> {
		const handle = await open(path, "w");
		try {
			for (const { weight, offsets } of this.entries) {
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
			}
			await handle.truncate(this.size);
			await handle.sync();
		} finally {
			await handle.close();
		}
	}
}
