import { createServer, request as httpRequest } from "node:http";
import { FaultInjector, listen } from "./fault-injection.js";
import type { FaultPlan, RunningServer } from "./fault-injection.js";

export interface FaultInjectingProxy extends RunningServer {
	faults: FaultInjector;
}

/**
 * A loopback reverse proxy that forwards every request to `target` (an OpenAI-compatible server, say) and
 * injects faults on demand: 429 with Retry-After, 500, 503, requests never answered, reset connections,
 * malformed JSON, or JSON of the wrong shape (`{"choices": []}`). Streaming answers pass through unchanged.
 */
export async function startFaultInjectingProxy(options: {
	target: string;
	faults?: Partial<FaultPlan>;
	/** Milliseconds added before each request is forwarded (a remote server's latency). */
	latencyMs?: number;
	host?: string;
	port?: number;
}): Promise<FaultInjectingProxy> {
	const faults = new FaultInjector(options.faults);
	const target = new URL(options.target);
	const server = createServer((request, response) => {
		const fault = faults.next();
		if (fault && faults.apply(fault, request, response)) return;
		if (fault === "wrong-shape") {
			request.resume();
			response.writeHead(200, { "content-type": "application/json" });
			response.end(JSON.stringify({ id: "x", object: "chat.completion", created: 0, model: "x", choices: [] }));
			return;
		}
		const forward = (): void => {
			const upstream = httpRequest(
				{ hostname: target.hostname, port: target.port, method: request.method, path: request.url, headers: { ...request.headers, host: target.host } },
				(reply) => {
					response.writeHead(reply.statusCode ?? 502, reply.headers);
					reply.pipe(response);
				},
			);
			upstream.on("error", () => {
				if (!response.headersSent) response.writeHead(502, { "content-type": "application/json" });
				response.end(JSON.stringify({ error: { message: "upstream unreachable", type: "server_error" } }));
			});
			request.pipe(upstream);
		};
		if (options.latencyMs) setTimeout(forward, options.latencyMs);
		else forward();
	});
	const running = await listen(server, options);
	return { ...running, faults };
}
