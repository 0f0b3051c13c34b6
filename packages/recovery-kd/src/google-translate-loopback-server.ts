import { createServer } from "node:http";
import type { ServerResponse } from "node:http";
import { FaultInjector, listen, readBody } from "./fault-injection.js";
import type { FaultPlan, RunningServer } from "./fault-injection.js";

/** One request the loopback server received (the key is recorded only as present or not). */
export interface GoogleLoopbackRequest {
	q: string[];
	source?: string;
	target?: string;
	format?: string;
	hasKey: boolean;
}

export interface GoogleLoopbackOptions {
	/**
	 * The translation engine behind the endpoint: gets one segment (HTML when `format` is `html`) and returns
	 * its translation. The server keeps `<span translate="no">` spans out of it, as Google does.
	 */
	translate: (text: string, request: { source?: string; target: string }) => string;
	/** Only this key is accepted (400 "API key not valid", like Google); any key when unset. */
	apiKey?: string;
	faults?: Partial<FaultPlan>;
	/**
	 * Keep `<span translate="no">` content away from `translate` (default true, Google's documented behaviour);
	 * false hands the whole segment to `translate`, to play an engine that damages protected spans.
	 */
	keepSpans?: boolean;
	/** Milliseconds each answer takes (a remote engine's latency). */
	latencyMs?: number;
	host?: string;
	port?: number;
}

export interface GoogleLoopbackServer extends RunningServer {
	/** The v2 endpoint: `<url>/language/translate/v2`. */
	endpoint: string;
	faults: FaultInjector;
	requests: GoogleLoopbackRequest[];
}

const NO_TRANSLATE = /(<span\s+translate\s*=\s*["']?no["']?\s*>[\s\S]*?<\/span>|<br\s*\/?>)/giu;

/**
 * A loopback server that speaks the Cloud Translation v2 REST shape: POST /language/translate/v2?key=… with
 * JSON `{q, source, target, format}` (q a string or a list) → `{data: {translations: [{translatedText}]}}`,
 * errors as `{error: {code, message, errors: [{reason}]}}`. It injects 429s, 500s, timeouts, resets and
 * malformed bodies on demand, so clients can prove their retries and their refusal of bad responses.
 */
export async function startGoogleTranslateLoopbackServer(options: GoogleLoopbackOptions): Promise<GoogleLoopbackServer> {
	const faults = new FaultInjector(options.faults);
	const requests: GoogleLoopbackRequest[] = [];
	const fail = (response: ServerResponse, code: number, message: string, reason: string, detail?: string): void => {
		response.writeHead(code, { "content-type": "application/json; charset=utf-8" });
		const details = detail ? [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: detail, domain: "googleapis.com" }] : undefined;
		response.end(JSON.stringify({ error: { code, message, errors: [{ message, domain: "global", reason }], ...(details ? { details } : {}) } }));
	};
	const server = createServer((request, response) => {
		void (async () => {
			const url = new URL(request.url ?? "/", "http://loopback");
			if (request.method !== "POST" || url.pathname !== "/language/translate/v2") return fail(response, 404, `no route ${request.method} ${url.pathname}`, "notFound");
			const fault = faults.next();
			const body = await readBody(request);
			if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
			if (fault && faults.apply(fault, request, response)) return;
			let parsed: { q?: unknown; source?: unknown; target?: unknown; format?: unknown; key?: unknown };
			try {
				parsed = JSON.parse(body || "{}") as typeof parsed;
			} catch {
				return fail(response, 400, "Invalid JSON payload received.", "parseError");
			}
			const key = url.searchParams.get("key") ?? (typeof parsed.key === "string" ? parsed.key : undefined) ?? request.headers["x-goog-api-key"];
			const q = typeof parsed.q === "string" ? [parsed.q] : Array.isArray(parsed.q) ? parsed.q.filter((x): x is string => typeof x === "string") : [];
			requests.push({ q, source: parsed.source as string | undefined, target: parsed.target as string | undefined, format: parsed.format as string | undefined, hasKey: key !== undefined });
			if (!key) return fail(response, 403, "The request is missing a valid API key.", "forbidden");
			if (options.apiKey !== undefined && key !== options.apiKey) return fail(response, 400, "API key not valid. Please pass a valid API key.", "badRequest", "API_KEY_INVALID");
			if (typeof parsed.target !== "string") return fail(response, 400, "Missing required field target", "required");
			if (q.length === 0) return fail(response, 400, "Missing required field q", "required");
			if (q.length > 128) return fail(response, 400, "Too many text segments", "invalid");
			const target = parsed.target;
			const source = typeof parsed.source === "string" ? parsed.source : undefined;
			const html = parsed.format !== "text";
			const translations = q.map((text) => ({
				translatedText: html && options.keepSpans !== false
					? text
							.split(NO_TRANSLATE)
							.map((piece, i) => (i % 2 === 1 ? piece : piece.trim() === "" ? piece : options.translate(piece, { source, target })))
							.join("")
					: options.translate(text, { source, target }),
			}));
			const data = fault === "wrong-shape" ? { data: { translations: translations.slice(1) } } : { data: { translations } };
			response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
			response.end(JSON.stringify(data));
		})().catch((error: Error) => {
			if (!response.headersSent) fail(response, 500, error.message, "backendError");
		});
	});
	const running = await listen(server, options);
	return { ...running, endpoint: `${running.url}/language/translate/v2`, faults, requests };
}
