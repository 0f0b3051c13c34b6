interface Pending<Q, R> {
	request: Q;
	resolve(result: R): void;
	reject(error: unknown): void;
}

/**
 * Gathers requests that arrive while the model is busy and runs them as one batch (one forward pass per
 * step for all of them), one batch at a time. Only requests with the same `keyOf` (the same sampling
 * settings) share a batch; the others wait for the next one, in arrival order. When a batch fails, its requests
 * are run again one by one, so that only the request at fault gets the error.
 */
export class MicroBatcher<Q, R> {
	private readonly queue: Pending<Q, R>[] = [];
	private running = false;

	constructor(
		private readonly run: (batch: Q[]) => Promise<R[]>,
		private readonly options: { maxBatch: number; keyOf: (request: Q) => string },
	) {}

	submit(request: Q): Promise<R> {
		return new Promise<R>((resolve, reject) => {
			this.queue.push({ request, resolve, reject });
			if (!this.running) {
				this.running = true;
				// Let requests that arrive in the same tick join the first batch.
				setImmediate(() => void this.drain());
			}
		});
	}

	private async drain(): Promise<void> {
		while (this.queue.length > 0) {
			const key = this.options.keyOf((this.queue[0] as Pending<Q, R>).request);
			const batch: Pending<Q, R>[] = [];
			for (let i = 0; i < this.queue.length && batch.length < this.options.maxBatch; ) {
				const entry = this.queue[i] as Pending<Q, R>;
				if (this.options.keyOf(entry.request) === key) {
					batch.push(entry);
					this.queue.splice(i, 1);
				} else i += 1;
			}
			try {
				const results = await this.run(batch.map((entry) => entry.request));
				batch.forEach((entry, i) => entry.resolve(results[i] as R));
			} catch (error) {
				if (batch.length === 1) (batch[0] as Pending<Q, R>).reject(error);
				// One bad request must not fail the others that shared its batch: each is run again alone.
				else for (const entry of batch) await this.run([entry.request]).then((results) => entry.resolve(results[0] as R), entry.reject);
			}
			await new Promise<void>((resolve) => setImmediate(resolve));
		}
		this.running = false;
	}
}
