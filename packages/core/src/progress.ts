/** Progress of a long job. */
export interface Progress {
	/** Adds n units of work done (default 1). */
	tick(n?: number): void;
	/** Sets the total once it is known. */
	setTotal(total: number): void;
	/** Prints the final line. */
	done(message?: string): void;
	readonly completed: number;
}

export interface ProgressOptions {
	/** What is being counted, shown before the numbers. */
	label: string;
	/** Total units, when known (for a bar and an ETA). */
	total?: number;
	/** Unit name (`records`, `docs`, `tokens`). */
	unit?: string;
	/** Where to write (default process.stderr). */
	stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
	/** Minimum interval between plain lines when not on a TTY (default 10 s). */
	intervalMs?: number;
	/** Count already done when resuming. */
	initial?: number;
	/** Print nothing (for tests and libraries). */
	silent?: boolean;
}

function formatDuration(seconds: number): string {
	if (!Number.isFinite(seconds)) return "?";
	const s = Math.round(seconds);
	if (s < 60) return `${s}s`;
	if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
	return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * A progress reporter: a redrawn bar on a TTY, plain periodic lines otherwise (logs, CI), so long jobs are
 * visible without flooding a log file.
 */
export function createProgress(options: ProgressOptions): Progress {
	const stream = options.stream ?? process.stderr;
	const tty = Boolean(stream.isTTY);
	const interval = tty ? 100 : (options.intervalMs ?? 10_000);
	const unit = options.unit ?? "records";
	const start = Date.now();
	const initial = options.initial ?? 0;
	let total = options.total;
	let completed = initial;
	let lastDraw = 0;

	const line = (): string => {
		const elapsed = (Date.now() - start) / 1000;
		const rate = elapsed > 0 ? (completed - initial) / elapsed : 0;
		const rateText = `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)} ${unit}/s`;
		if (total !== undefined && total > 0) {
			const fraction = Math.min(1, completed / total);
			const eta = rate > 0 ? (total - completed) / rate : Number.POSITIVE_INFINITY;
			const percent = `${(fraction * 100).toFixed(1)}%`;
			if (tty) {
				const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 60));
				const filled = Math.round(fraction * width);
				return `${options.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${percent} ${completed}/${total} ${rateText} eta ${formatDuration(eta)}`;
			}
			return `${options.label}: ${completed}/${total} ${unit} (${percent}), ${rateText}, eta ${formatDuration(eta)}`;
		}
		return `${options.label}: ${completed} ${unit}, ${rateText}, ${formatDuration(elapsed)} elapsed`;
	};

	const draw = (force: boolean): void => {
		if (options.silent) return;
		const now = Date.now();
		if (!force && now - lastDraw < interval) return;
		lastDraw = now;
		stream.write(tty ? `\r\x1b[2K${line()}` : `${line()}\n`);
	};

	return {
		tick(n = 1) {
			completed += n;
			draw(false);
		},
		setTotal(value: number) {
			total = value;
		},
		done(message?: string) {
			if (options.silent) return;
			stream.write(tty ? `\r\x1b[2K${line()}\n` : `${line()}\n`);
			if (message) stream.write(`${message}\n`);
		},
		get completed() {
			return completed;
		},
	};
}
