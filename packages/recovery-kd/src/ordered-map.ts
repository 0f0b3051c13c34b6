/** The outcome of one task of `mapOrdered`, yielded in input order. */
export type OrderedOutcome<T, R> = { item: T; index: number } & ({ ok: true; value: R } | { ok: false; error: unknown });

export interface MapOrderedOptions {
	/** Tasks running at once. */
	concurrency: number;
	/** Items started but not yet yielded (finished ones wait for their predecessors); default 4 × concurrency. */
	window?: number;
}

interface Entry<T, R> {
	item: T;
	index: number;
	settled: Promise<OrderedOutcome<T, R>>;
}

/**
 * Runs `task` over a stream with at most `concurrency` tasks in flight and yields every outcome in input
 * order, whatever order the tasks finish in: the output of a concurrent run is the same file as a sequential
 * one, and a killed run's output is always a prefix of it (which is what makes resuming exact).
 */
export async function* mapOrdered<T, R>(
	source: AsyncIterable<T> | Iterable<T>,
	task: (item: T, index: number) => Promise<R>,
	options: MapOrderedOptions,
): AsyncGenerator<OrderedOutcome<T, R>> {
	const concurrency = Math.max(1, Math.floor(options.concurrency));
	const window = Math.max(concurrency, options.window ?? concurrency * 4);
	const iterator: AsyncIterator<T> | Iterator<T> =
		Symbol.asyncIterator in source ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
	const queue: Entry<T, R>[] = [];
	let running = 0;
	let nextIndex = 0;
	let sourceDone = false;
	let sourceError: { error: unknown } | undefined;
	let pumping: Promise<void> | undefined;
	let wake: (() => void) | undefined;

	const signal = (): void => {
		const resolve = wake;
		wake = undefined;
		resolve?.();
	};

	const pumpLoop = async (): Promise<void> => {
		while (!sourceDone && sourceError === undefined && running < concurrency && queue.length < window) {
			let next: IteratorResult<T>;
			try {
				next = await iterator.next();
			} catch (error) {
				sourceError = { error };
				break;
			}
			if (next.done) {
				sourceDone = true;
				break;
			}
			const item = next.value;
			const index = nextIndex++;
			running += 1;
			const settled = Promise.resolve()
				.then(() => task(item, index))
				.then(
					(value): OrderedOutcome<T, R> => ({ item, index, ok: true, value }),
					(error: unknown): OrderedOutcome<T, R> => ({ item, index, ok: false, error }),
				)
				.then((outcome) => {
					running -= 1;
					pump();
					signal();
					return outcome;
				});
			queue.push({ item, index, settled });
			signal();
		}
	};

	const pump = (): Promise<void> => {
		if (pumping) return pumping;
		pumping = pumpLoop().finally(() => {
			pumping = undefined;
			// Capacity may have freed while the loop awaited the source.
			if (!sourceDone && sourceError === undefined && running < concurrency && queue.length < window) void pump();
			signal();
		});
		return pumping;
	};

	try {
		void pump();
		for (;;) {
			const head = queue.shift();
			if (head) {
				const outcome = await head.settled;
				void pump();
				yield outcome;
				continue;
			}
			if (sourceError !== undefined) throw sourceError.error;
			if (sourceDone && running === 0 && !pumping) return;
			await new Promise<void>((resolve) => {
				wake = resolve;
				if (queue.length > 0 || sourceError !== undefined || (sourceDone && !pumping)) signal();
			});
		}
	} finally {
		if (!sourceDone) await iterator.return?.();
	}
}
