import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { DocumentHasher } from "./document-hasher.js";
import type { HasherConfig, HashedBatch } from "./document-hasher.js";

interface Pending {
	resolve: (batch: HashedBatch) => void;
	reject: (error: Error) => void;
}

function startWorker(config: HasherConfig): Worker {
	const built = fileURLToPath(new URL("./hash-worker.js", import.meta.url));
	if (existsSync(built)) return new Worker(built, { workerData: config });
	// Running from the TypeScript sources (tests, tsx): register tsx's loader inside the worker, then import the
	// worker module, resolving workspace packages to their sources like the parent does.
	const tsxRoot = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
	const tsx = pathToFileURL(join(tsxRoot, "dist", "esm", "api", "index.mjs")).href;
	const entry = new URL("./hash-worker.ts", import.meta.url).href;
	const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
	return new Worker(code, { eval: true, workerData: config, execArgv: ["--conditions", "source"] });
}

/**
 * Hashes document batches on `workers` worker threads (every core), or in this thread when `workers` is 0.
 * Batches are dispatched to the least busy worker; results come back as transferred typed arrays.
 */
export class HashPool {
	private readonly workers: Worker[] = [];
	private readonly busy: number[] = [];
	private readonly pending = new Map<number, Pending & { worker: number }>();
	private readonly inline: DocumentHasher | undefined;
	private nextId = 0;
	private failure: Error | undefined;

	constructor(config: HasherConfig, workers: number) {
		if (workers <= 0) {
			this.inline = new DocumentHasher(config);
			return;
		}
		for (let w = 0; w < workers; w++) {
			const worker = startWorker(config);
			worker.on("message", (message: { id: number; batch: HashedBatch }) => {
				const job = this.pending.get(message.id);
				if (!job) return;
				this.pending.delete(message.id);
				this.busy[job.worker] = (this.busy[job.worker] as number) - 1;
				job.resolve(message.batch);
			});
			worker.on("error", (error) => this.fail(error));
			worker.on("exit", (code) => {
				if (code !== 0) this.fail(new Error(`hash worker exited with code ${code}`));
			});
			this.workers.push(worker);
			this.busy.push(0);
		}
	}

	private fail(error: Error): void {
		this.failure ??= error;
		for (const job of this.pending.values()) job.reject(error);
		this.pending.clear();
	}

	/** Threads hashing (1 when hashing inline). */
	get size(): number {
		return Math.max(1, this.workers.length);
	}

	hash(texts: string[]): Promise<HashedBatch> {
		if (this.inline) return Promise.resolve(this.inline.hashBatch(texts));
		if (this.failure) return Promise.reject(this.failure);
		let chosen = 0;
		for (let w = 1; w < this.workers.length; w++) if ((this.busy[w] as number) < (this.busy[chosen] as number)) chosen = w;
		const id = this.nextId++;
		this.busy[chosen] = (this.busy[chosen] as number) + 1;
		return new Promise<HashedBatch>((resolve, reject) => {
			this.pending.set(id, { resolve, reject, worker: chosen });
			this.workers[chosen]?.postMessage({ id, texts });
		});
	}

	async close(): Promise<void> {
		await Promise.all(this.workers.map((worker) => worker.terminate()));
	}
}
