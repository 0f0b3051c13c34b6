import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { SeededRng } from "@transllm/core";

/**
 * A failure a loopback server can inject into one request: an HTTP status (400 refusing that request alone,
 * 429 with Retry-After, 500, 503),
 * a request that never gets an answer (`timeout`), a connection reset, a body that is not JSON (`malformed`),
 * or valid JSON of the wrong shape (`wrong-shape`).
 */
export type Fault = "400" | "429" | "500" | "503" | "timeout" | "reset" | "malformed" | "wrong-shape";

export interface FaultPlan {
	/** Faults for the next requests, one per request, in order. */
	queue: Fault[];
	/** Besides the queue, a random fault with this probability per request (seeded: runs repeat exactly). */
	rate?: number;
	/** Faults drawn at `rate`. */
	kinds?: Fault[];
	seed?: number;
	/** Retry-After seconds sent with 429 (default 0). */
	retryAfterSeconds?: number;
}

/** Counts what a fault-injecting server saw and did. */
export interface FaultStats {
	requests: number;
	injected: Record<string, number>;
}

/** Picks the fault for each request: the queue first, then the seeded random rate. */
export class FaultInjector {
	readonly stats: FaultStats = { requests: 0, injected: {} };
	private readonly queue: Fault[];
	private readonly rng: SeededRng;

	constructor(private readonly plan: Partial<FaultPlan> = {}) {
		this.queue = [...(plan.queue ?? [])];
		this.rng = new SeededRng(plan.seed ?? 0);
	}

	/** Adds faults for the next requests. */
	inject(...faults: Fault[]): void {
		this.queue.push(...faults);
	}

	/** Faults still queued. */
	get pending(): number {
		return this.queue.length;
	}

	next(): Fault | undefined {
		this.stats.requests += 1;
		let fault = this.queue.shift();
		if (fault === undefined && this.plan.rate && this.rng.bernoulli(this.plan.rate)) fault = this.rng.pick(this.plan.kinds ?? ["429", "500"]);
		if (fault !== undefined) this.stats.injected[fault] = (this.stats.injected[fault] ?? 0) + 1;
		return fault;
	}

	/**
	 * Answers a request with `fault`; returns false for the faults the caller renders itself (`wrong-shape`,
	 * whose body depends on the API).
	 */
	apply(fault: Fault, request: IncomingMessage, response: ServerResponse): boolean {
		// The body is not needed (a no-op when it was read already).
		if (fault !== "reset" && fault !== "wrong-shape") request.resume();
		switch (fault) {
			case "400":
				response.writeHead(400, { "content-type": "application/json" });
				response.end(JSON.stringify({ error: { code: 400, message: "This request is too long for the model (injected)", type: "invalid_request_error" } }));
				return true;
			case "429":
				response.writeHead(429, { "content-type": "application/json", "retry-after": String(this.plan.retryAfterSeconds ?? 0) });
				response.end(JSON.stringify({ error: { code: 429, message: "Rate limit exceeded (injected)", status: "RESOURCE_EXHAUSTED" } }));
				return true;
			case "500":
			case "503":
				response.writeHead(Number(fault), { "content-type": "application/json" });
				response.end(JSON.stringify({ error: { code: Number(fault), message: `Server error (injected ${fault})` } }));
				return true;
			case "timeout":
				// Never answered: the client's timeout must fire. The socket is destroyed when the server closes.
				return true;
			case "reset":
				request.socket.destroy();
				return true;
			case "malformed":
				response.writeHead(200, { "content-type": "application/json" });
				response.end('{"data": {"translations": [{"translatedText": "trunc');
				return true;
			case "wrong-shape":
				return false;
		}
	}
}

/** Reads a request body as text (with a size cap). */
export async function readBody(request: IncomingMessage, maxBytes = 64 * 1024 * 1024): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of request as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > maxBytes) throw new Error(`request body over ${maxBytes} bytes`);
		chunks.push(chunk);
	}
	return Buffer.concat(chunks).toString("utf8");
}

/** A started loopback server: its base URL and a close that also ends hanging (timed-out) connections. */
export interface RunningServer {
	url: string;
	port: number;
	close(): Promise<void>;
}

/** Listens on host:port (port 0 picks a free one) and tracks sockets so that `close` never hangs. */
export async function listen(server: Server, options: { host?: string; port?: number } = {}): Promise<RunningServer> {
	const sockets = new Set<Socket>();
	server.on("connection", (socket) => {
		sockets.add(socket);
		socket.on("close", () => sockets.delete(socket));
	});
	const host = options.host ?? "127.0.0.1";
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port ?? 0, host, () => {
			server.off("error", reject);
			resolve();
		});
	});
	const address = server.address();
	const port = typeof address === "object" && address ? address.port : 0;
	const shown = host.includes(":") ? `[${host}]` : host;
	return {
		url: `http://${shown}:${port}`,
		port,
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}
