import { closeSync, fsyncSync, openSync, readSync, renameSync, writeSync } from "node:fs";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Buffered binary output that is atomic: bytes go to `<path>.partial`, `finish()` fsyncs and renames. A
 * killed stage leaves no half file under the final name, so its completion marker is the only truth.
 */
export class BinaryFileWriter {
	readonly path: string;
	private fd: number;
	private buffer: Buffer;
	private used = 0;
	/** Bytes written so far (buffered included). */
	bytes = 0;

	constructor(path: string, bufferBytes = 1 << 22) {
		this.path = path;
		mkdirSync(dirname(path), { recursive: true });
		this.fd = openSync(`${path}.partial`, "w");
		this.buffer = Buffer.allocUnsafe(bufferBytes);
	}

	write(data: Uint8Array): void {
		if (data.length > this.buffer.length - this.used) {
			this.flush();
			if (data.length > this.buffer.length) {
				writeSync(this.fd, data);
				this.bytes += data.length;
				return;
			}
		}
		this.buffer.set(data, this.used);
		this.used += data.length;
		this.bytes += data.length;
	}

	/** Writes 32-bit words (little-endian on every platform Node supports). */
	writeWords(words: Uint32Array | Float32Array | Float64Array): void {
		this.write(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
	}

	/** Overwrites bytes at a position already written (headers whose counts are known at the end). */
	patch(position: number, data: Uint8Array): void {
		this.flush();
		writeSync(this.fd, data, 0, data.length, position);
	}

	flush(): void {
		if (this.used === 0) return;
		writeSync(this.fd, this.buffer, 0, this.used);
		this.used = 0;
	}

	finish(): void {
		this.flush();
		fsyncSync(this.fd);
		closeSync(this.fd);
		renameSync(`${this.path}.partial`, this.path);
	}

	abort(): void {
		closeSync(this.fd);
	}
}

/** Reads `length` bytes at `position` of an open file into `target` (throws on a short read). */
export function readExactly(fd: number, target: Uint8Array, position: number, path: string): void {
	let done = 0;
	while (done < target.length) {
		const n = readSync(fd, target, done, target.length - done, position + done);
		if (n === 0) throw new Error(`${path}: unexpected end of file at byte ${position + done}`);
		done += n;
	}
}
