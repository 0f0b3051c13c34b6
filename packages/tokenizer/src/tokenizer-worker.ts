import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const require = createRequire(import.meta.url);

/**
 * The worker's code, plain CommonJS so that it runs the same from dist/ and from src/ under vitest. It loads
 * tokenizer.json texts into the Rust binding and/or the pure-JS library and answers requests one at a time.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { Tokenizer: RustTokenizer } = require(workerData.rust);
const { Tokenizer: JsTokenizer } = require(workerData.js);
const loaded = new Map();
const encodeRust = async (tokenizer, lines) => {
	const out = [];
	for (let start = 0; start < lines.length; start += 512) {
		for (const encoding of await tokenizer.encodeBatch(lines.slice(start, start + 512), { addSpecialTokens: false })) out.push(encoding.getIds());
	}
	return out;
};
const handle = async (m) => {
	if (m.kind === "load") {
		loaded.set(m.name, {
			rust: m.rust ? RustTokenizer.fromString(m.json) : undefined,
			js: m.js ? new JsTokenizer(JSON.parse(m.json), m.config || {}) : undefined,
		});
		return null;
	}
	const entry = loaded.get(m.name);
	if (m.kind === "encode-rust") return encodeRust(entry.rust, m.lines);
	if (m.kind === "encode-js") return m.lines.map((line) => entry.js.encode(line, { add_special_tokens: false }).ids);
	if (m.kind === "decode") return entry.rust.decodeBatch(m.ids, false);
	if (m.kind === "round-trip") return entry.rust.decodeBatch(await encodeRust(entry.rust, m.lines), false);
	throw new Error("unknown request " + m.kind);
};
let queue = Promise.resolve();
parentPort.on("message", (m) => {
	queue = queue
		.then(() => handle(m))
		.then(
			(result) => parentPort.postMessage({ id: m.id, result }),
			(error) => parentPort.postMessage({ id: m.id, error: String((error && error.stack) || error) }),
		);
});
`;

/**
 * Tokenizers loaded on a second thread: the checks build four tokenizers (base and extended, Rust and JS), each
 * seconds for Llama-3's 280k merges, and the base ones do not depend on what is learned, so they are built while
 * the main thread learns. Requests are answered in order; the thread holds the process open only while a
 * request is pending.
 */
export class TokenizerWorker {
	private readonly worker: Worker;
	private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
	private next = 0;
	private failure: Error | undefined;

	constructor() {
		this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { rust: require.resolve("tokenizers"), js: require.resolve("@huggingface/tokenizers") } });
		this.worker.unref();
		this.worker.on("message", (message: { id: number; result?: unknown; error?: string }) => {
			const request = this.pending.get(message.id);
			if (!request) return;
			this.pending.delete(message.id);
			if (this.pending.size === 0) this.worker.unref();
			if (message.error !== undefined) request.reject(new Error(`tokenizer worker: ${message.error}`));
			else request.resolve(message.result);
		});
		const fail = (error: Error): void => {
			this.failure = error;
			for (const request of this.pending.values()) request.reject(error);
			this.pending.clear();
		};
		this.worker.on("error", fail);
		this.worker.on("exit", (code) => fail(new Error(`tokenizer worker exited (code ${code})`)));
	}

	private request<T>(message: Record<string, unknown>): Promise<T> {
		if (this.failure) return Promise.reject(this.failure);
		const id = this.next++;
		this.worker.ref();
		return new Promise<T>((resolve, reject) => {
			this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
			this.worker.postMessage({ ...message, id });
		});
	}

	/** Loads a tokenizer.json text under `name` into the Rust binding and/or the JS library. */
	load(name: string, json: string, options: { rust?: boolean; js?: boolean; config?: Record<string, unknown> }): Promise<void> {
		return this.request({ kind: "load", name, json, rust: options.rust ?? false, js: options.js ?? false, config: options.config });
	}

	/** The ids of each line (no special tokens) under the Rust binding or the JS library. */
	encode(name: string, engine: "rust" | "js", lines: readonly string[]): Promise<number[][]> {
		return this.request({ kind: engine === "rust" ? "encode-rust" : "encode-js", name, lines });
	}

	/** Ids decoded by the Rust binding (special tokens kept). */
	decode(name: string, ids: readonly (readonly number[])[]): Promise<string[]> {
		return this.request({ kind: "decode", name, ids });
	}

	/** Each line encoded and decoded again by the Rust binding. */
	roundTrip(name: string, lines: readonly string[]): Promise<string[]> {
		return this.request({ kind: "round-trip", name, lines });
	}

	async close(): Promise<void> {
		this.worker.removeAllListeners("exit");
		await this.worker.terminate();
	}
}
