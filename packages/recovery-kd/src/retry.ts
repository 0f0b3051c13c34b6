import { TransllmError } from "@transllm/core";

/** How a remote call is retried. */
export interface RetryPolicy {
	/** Retries after the first attempt (default 6). */
	retries?: number;
	/** Delay before the first retry, doubled each time (default 500 ms). */
	baseDelayMs?: number;
	/** Longest delay between attempts, Retry-After included (default 60 s). */
	maxDelayMs?: number;
}

/**
 * A failure of a remote call. `retryable` failures (429, 5xx, timeouts, refused or reset connections,
 * malformed bodies) are tried again with backoff; `fatal` ones (bad key, unknown model) stop the whole run,
 * because every later record would fail the same way; the others reject only the record that caused them.
 */
export class RemoteError extends TransllmError {
	readonly status?: number;
	readonly retryable: boolean;
	readonly fatal: boolean;
	/** Seconds the server asked to wait (Retry-After). */
	readonly retryAfterSeconds?: number;
	/** Attempts made when the error was given up on. */
	attempts = 1;

	constructor(message: string, options: { status?: number; retryable: boolean; fatal?: boolean; retryAfterSeconds?: number; cause?: unknown }) {
		super("E_REMOTE", message, { cause: options.cause });
		this.name = "RemoteError";
		this.status = options.status;
		this.retryable = options.retryable;
		this.fatal = options.fatal ?? false;
		this.retryAfterSeconds = options.retryAfterSeconds;
	}

	static isRemote(error: unknown): error is RemoteError {
		return TransllmError.isInstance(error) && error.code === "E_REMOTE" && typeof (error as RemoteError).retryable === "boolean";
	}
}

/** Statuses worth another try: request timeout, conflict, too early, rate limit, and server errors. */
export function isRetryableStatus(status: number): boolean {
	return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** Statuses that no record can get past: bad or missing key, forbidden, unknown endpoint or model. */
export function isFatalStatus(status: number): boolean {
	return status === 401 || status === 403 || status === 404;
}

/** Parses a Retry-After header (seconds or an HTTP date) into seconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
	if (!value) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds);
	const date = Date.parse(value);
	return Number.isFinite(date) ? Math.max(0, (date - now) / 1000) : undefined;
}

/** The wait before retry number `attempt` (1-based): exponential with full jitter, at least Retry-After. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, retryAfterSeconds?: number, random = Math.random): number {
	const base = policy.baseDelayMs ?? 500;
	const max = policy.maxDelayMs ?? 60_000;
	const exponential = Math.min(max, base * 2 ** (attempt - 1));
	// Half fixed, half jittered: concurrent clients spread out instead of retrying in lockstep.
	const delay = exponential / 2 + random() * (exponential / 2);
	return Math.min(max, Math.max(delay, (retryAfterSeconds ?? 0) * 1000));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason);
		const timer = setTimeout(() => {
			signal?.removeEventListener("abort", onAbort);
			resolve();
		}, ms);
		const onAbort = (): void => {
			clearTimeout(timer);
			reject(signal?.reason);
		};
		signal?.addEventListener("abort", onAbort, { once: true });
	});
}

/**
 * Calls `attempt` until it succeeds, a non-retryable RemoteError is thrown, or the retries are spent.
 * `onRetry` sees every retry (for counters and logs).
 */
export async function withRetries<T>(
	attempt: (attemptNumber: number) => Promise<T>,
	policy: RetryPolicy & { signal?: AbortSignal; onRetry?: (error: RemoteError, attempt: number, delayMs: number) => void } = {},
): Promise<T> {
	const retries = policy.retries ?? 6;
	for (let n = 1; ; n++) {
		try {
			return await attempt(n);
		} catch (error) {
			if (!RemoteError.isRemote(error)) throw error;
			error.attempts = n;
			if (!error.retryable || n > retries) throw error;
			const delay = backoffDelayMs(n, policy, error.retryAfterSeconds);
			policy.onRetry?.(error, n, delay);
			await sleep(delay, policy.signal);
		}
	}
}
