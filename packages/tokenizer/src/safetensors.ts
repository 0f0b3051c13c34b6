import { open, stat } from "node:fs/promises";
import { InputError, writeFileAtomicWith } from "@transllm/core";

/** Bytes per element of each safetensors dtype. */
export const DTYPE_BYTES: Record<string, number> = {
	F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** The safetensors reference implementation refuses headers over 100 MB; so does this reader. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
	name: string;
	dtype: string;
	shape: number[];
	/** Byte offsets in the file (not the data section). */
	start: number;
	end: number;
}

export interface SafetensorsHeader {
	file: string;
	tensors: TensorInfo[];
	metadata?: Record<string, string>;
	dataStart: number;
	fileSize: number;
}

/**
 * Reads and validates a safetensors header without reading tensor data: 8-byte little-endian header size
 * (at most MAX_HEADER_BYTES and inside the file), JSON header, each tensor's dtype, shape and offsets (inside
 * the data section, matching dtype × shape, not overlapping). Any violation is an InputError naming the file
 * and tensor.
 */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
	const handle = await open(file, "r").catch((error: NodeJS.ErrnoException) => {
		throw new InputError(error.code === "ENOENT" ? "safetensors file not found" : `cannot open: ${error.message}`, { file });
	});
	try {
		const { size: fileSize } = await handle.stat();
		if (fileSize < 8) throw new InputError(`not a safetensors file: ${fileSize} bytes`, { file });
		const head = Buffer.alloc(8);
		await handle.read(head, 0, 8, 0);
		const headerSize = Number(head.readBigUInt64LE(0));
		if (headerSize > MAX_HEADER_BYTES) throw new InputError(`header of ${headerSize} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`, { file, field: "header" });
		if (8 + headerSize > fileSize) throw new InputError(`header of ${headerSize} bytes runs past the end of the ${fileSize}-byte file`, { file, field: "header" });
		const headerBytes = Buffer.alloc(headerSize);
		await handle.read(headerBytes, 0, headerSize, 8);
		let parsed: unknown;
		try {
			parsed = JSON.parse(headerBytes.toString("utf8"));
		} catch (error) {
			throw new InputError(`header is not valid JSON: ${(error as Error).message}`, { file, field: "header" });
		}
		if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InputError("header is not a JSON object", { file, field: "header" });
		const dataStart = 8 + headerSize;
		const dataSize = fileSize - dataStart;
		const tensors: TensorInfo[] = [];
		let metadata: Record<string, string> | undefined;
		for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
			if (name === "__metadata__") {
				metadata = value as Record<string, string>;
				continue;
			}
			const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
			const bytes = typeof entry?.dtype === "string" ? DTYPE_BYTES[entry.dtype] : undefined;
			if (bytes === undefined) throw new InputError(`unknown dtype ${JSON.stringify(entry?.dtype)}`, { file, field: name });
			if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new InputError("shape is not a list of non-negative integers", { file, field: name });
			const offsets = entry.data_offsets;
			if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) throw new InputError("data_offsets is not [begin, end]", { file, field: name });
			const [begin, end] = offsets as [number, number];
			if (end < begin || end > dataSize) throw new InputError(`data_offsets [${begin}, ${end}] out of range (data section is ${dataSize} bytes)`, { file, field: name });
			const expected = (entry.shape as number[]).reduce((a, b) => a * b, 1) * bytes;
			if (end - begin !== expected) throw new InputError(`data_offsets span ${end - begin} bytes but ${entry.dtype} ${JSON.stringify(entry.shape)} needs ${expected}`, { file, field: name });
			tensors.push({ name, dtype: entry.dtype as string, shape: entry.shape as number[], start: dataStart + begin, end: dataStart + end });
		}
		const sorted = [...tensors].sort((a, b) => a.start - b.start);
		for (let i = 1; i < sorted.length; i++) {
			const previous = sorted[i - 1] as TensorInfo;
			const current = sorted[i] as TensorInfo;
			if (current.start < previous.end) throw new InputError(`overlaps tensor ${previous.name}`, { file, field: current.name });
		}
		return { file, tensors, metadata, dataStart, fileSize };
	} finally {
		await handle.close();
	}
}

/** A tensor to write: its header entry and a function that writes exactly its bytes, in order. */
export interface TensorSource {
	name: string;
	dtype: string;
	shape: number[];
	/** Streams the tensor's bytes through `write` (called with consecutive chunks). */
	produce(write: (chunk: Uint8Array) => Promise<void>): Promise<void>;
}

/**
 * Writes a safetensors file by streaming each tensor's bytes (never the whole file in memory), to a temporary
 * file renamed into place, so an interrupted rewrite leaves no half-written shard.
 */
export async function writeSafetensors(file: string, tensors: readonly TensorSource[], metadata?: Record<string, string>): Promise<number> {
	const header: Record<string, unknown> = {};
	if (metadata) header.__metadata__ = metadata;
	let offset = 0;
	for (const tensor of tensors) {
		const bytes = tensor.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[tensor.dtype] as number);
		header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
		offset += bytes;
	}
	let json = JSON.stringify(header);
	// Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
	json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
	const headerBytes = Buffer.from(json, "utf8");
	await writeFileAtomicWith(file, async (handle) => {
		const size = Buffer.alloc(8);
		size.writeBigUInt64LE(BigInt(headerBytes.length));
		let position = 0;
		const write = async (chunk: Uint8Array): Promise<void> => {
			let done = 0;
			while (done < chunk.length) {
				const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position);
				done += bytesWritten;
				position += bytesWritten;
			}
		};
		await write(size);
		await write(headerBytes);
		for (const tensor of tensors) {
			const before = position;
			await tensor.produce(write);
			const expected = (header[tensor.name] as { data_offsets: [number, number] }).data_offsets;
			if (position - before !== expected[1] - expected[0]) throw new Error(`tensor ${tensor.name} produced ${position - before} bytes, expected ${expected[1] - expected[0]}`);
		}
	});
	return (await stat(file)).size;
}

/** Streams a byte range of a file in chunks (default 8 MiB). */
export async function copyRange(file: string, start: number, end: number, write: (chunk: Uint8Array) => Promise<void>, chunkBytes = 8 * 1024 * 1024): Promise<void> {
	const handle = await open(file, "r");
	try {
		const buffer = Buffer.alloc(Math.min(chunkBytes, Math.max(1, end - start)));
		let position = start;
		while (position < end) {
			const length = Math.min(buffer.length, end - position);
			const { bytesRead } = await handle.read(buffer, 0, length, position);
			if (bytesRead === 0) throw new InputError(`unexpected end of file at byte ${position}`, { file });
			await write(buffer.subarray(0, bytesRead));
			position += bytesRead;
		}
	} finally {
		await handle.close();
	}
}
