import { ConfigError } from "@transllm/core";
import { RemoteError, isFatalStatus, isRetryableStatus, parseRetryAfter, withRetries } from "./retry.js";
import type { RetryPolicy } from "./retry.js";
import { redactSecrets, redactUrl } from "./secrets.js";
import type { TranslationBackend, TranslationOutput, TranslationRequest } from "./translation-backend.js";

/** The Cloud Translation – Basic (v2) endpoint. The paper used Google Translate (Sec. 3.1). */
export const GOOGLE_TRANSLATE_V2_ENDPOINT = "https://translation.googleapis.com/language/translate/v2";

/** Google's v2 limit of text segments (`q` entries) per request. */
export const GOOGLE_MAX_SEGMENTS = 128;

export interface GoogleTranslateOptions {
	/** API key (from GOOGLE_TRANSLATE_API_KEY or GOOGLE_API_KEY; never logged). */
	apiKey: string;
	/** Endpoint URL (default GOOGLE_TRANSLATE_V2_ENDPOINT; a loopback server in tests). */
	endpoint?: string;
	/** Records translated at once (default 8). */
	concurrency?: number;
	/** Characters per request, summed over its segments (default 5000, Google's recommendation for v2). */
	maxRequestChars?: number;
	/** Segments per request (default and maximum 128). */
	maxSegments?: number;
	/** Timeout of one request in ms (default 60 000). */
	timeoutMs?: number;
	retry?: RetryPolicy;
	/** `nmt` or `base`, when set. */
	model?: string;
	fetch?: typeof fetch;
}

// 403 is also Google's answer to a quota that refills (per-minute limits): retried; a daily limit is not.
const RETRYABLE_403_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);

interface GoogleErrorBody {
	error?: { code?: number; message?: string; errors?: { reason?: string }[]; details?: { reason?: string }[] };
}

// A bad key is a 400 on Google's side, but no record can get past it: the run stops.
function isInvalidKey(body: GoogleErrorBody | undefined): boolean {
	return Boolean(body?.error?.details?.some((d) => d.reason === "API_KEY_INVALID") || /API key not valid/i.test(body?.error?.message ?? ""));
}

/** Groups segments into requests within the segment and character limits (an over-long segment goes alone). */
export function batchSegments(texts: readonly string[], maxSegments: number, maxChars: number): number[][] {
	const batches: number[][] = [];
	let current: number[] = [];
	let chars = 0;
	texts.forEach((text, index) => {
		if (current.length > 0 && (current.length >= maxSegments || chars + text.length > maxChars)) {
			batches.push(current);
			current = [];
			chars = 0;
		}
		current.push(index);
		chars += text.length;
	});
	if (current.length) batches.push(current);
	return batches;
}

/**
 * Google Cloud Translation v2 over REST: POST `{q: [...], source, target, format: "html"}` with `?key=`,
 * answer `{data: {translations: [{translatedText}]}}`. HTML format because that is how v2 leaves spans alone
 * (`<span translate="no">`). A response that is not exactly that shape, with one translation per segment, is
 * an error that is retried, never accepted.
 */
export function createGoogleTranslateBackend(options: GoogleTranslateOptions): TranslationBackend {
	const endpoint = options.endpoint ?? GOOGLE_TRANSLATE_V2_ENDPOINT;
	try {
		new URL(endpoint);
	} catch {
		throw new ConfigError(`Google endpoint must be a URL, got "${redactUrl(endpoint)}"`);
	}
	const maxSegments = Math.min(GOOGLE_MAX_SEGMENTS, options.maxSegments ?? GOOGLE_MAX_SEGMENTS);
	const maxChars = options.maxRequestChars ?? 5000;
	const timeoutMs = options.timeoutMs ?? 60_000;
	const doFetch = options.fetch ?? fetch;
	const secrets = [options.apiKey];
	const where = redactUrl(endpoint);
	let retries = 0;
	// After a fatal answer (bad key, quota gone) no further request is sent: they would all fail the same way.
	let fatal: RemoteError | undefined;

	async function request(q: string[], req: TranslationRequest): Promise<string[]> {
		if (fatal) throw fatal;
		const url = new URL(endpoint);
		url.searchParams.set("key", options.apiKey);
		const signal = req.signal ? AbortSignal.any([req.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
		let response: Response;
		let text: string;
		try {
			response = await doFetch(url, {
				method: "POST",
				headers: { "content-type": "application/json; charset=utf-8" },
				body: JSON.stringify({ q, source: req.source, target: req.target, format: "html", ...(options.model ? { model: options.model } : {}) }),
				signal,
			});
			text = await response.text();
		} catch (error) {
			if (req.signal?.aborted) throw error;
			const reason = (error as Error).name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : redactSecrets((error as Error).message, secrets);
			throw new RemoteError(`Google Translate ${where}: ${reason}`, { retryable: true, cause: error });
		}
		if (!response.ok) {
			let body: GoogleErrorBody | undefined;
			try {
				body = JSON.parse(text) as GoogleErrorBody;
			} catch {
				body = undefined;
			}
			const reasons = body?.error?.errors?.map((e) => e.reason ?? "") ?? [];
			const quota = response.status === 403 && reasons.some((r) => RETRYABLE_403_REASONS.has(r));
			const message = redactSecrets(body?.error?.message ?? text.slice(0, 200), secrets);
			const error = new RemoteError(`Google Translate ${where}: HTTP ${response.status}: ${message}`, {
				status: response.status,
				retryable: quota || isRetryableStatus(response.status),
				fatal: !quota && (isFatalStatus(response.status) || isInvalidKey(body)),
				retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after")),
			});
			if (error.fatal) fatal = error;
			throw error;
		}
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch {
			throw new RemoteError(`Google Translate ${where}: malformed response (not JSON): ${JSON.stringify(text.slice(0, 80))}`, { retryable: true });
		}
		const translations = (parsed as { data?: { translations?: unknown } })?.data?.translations;
		if (!Array.isArray(translations) || translations.length !== q.length) {
			throw new RemoteError(
				`Google Translate ${where}: malformed response: expected data.translations with ${q.length} entries, got ${Array.isArray(translations) ? translations.length : typeof translations}`,
				{ retryable: true },
			);
		}
		return translations.map((entry, i) => {
			const value = (entry as { translatedText?: unknown })?.translatedText;
			if (typeof value !== "string") throw new RemoteError(`Google Translate ${where}: malformed response: translations[${i}].translatedText is not a string`, { retryable: true });
			return value;
		});
	}

	return {
		kind: "google-v2",
		maskStyle: "html",
		granularity: "line",
		concurrency: options.concurrency ?? 8,
		location: where,
		model: options.model,
		get retries() {
			return retries;
		},
		async translate(texts, req): Promise<TranslationOutput[]> {
			const out: TranslationOutput[] = new Array(texts.length);
			for (const batch of batchSegments(texts, maxSegments, maxChars)) {
				const q = batch.map((i) => texts[i] as string);
				const translated = await withRetries(() => request(q, req), { ...options.retry, signal: req.signal, onRetry: () => void (retries += 1) });
				batch.forEach((index, k) => {
					out[index] = { text: translated[k] as string };
				});
			}
			return out;
		},
		async close() {},
	};
}
