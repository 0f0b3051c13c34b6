/** At most `size` tasks at once; the others wait in order. */
export class Semaphore {
	private active = 0;
	private readonly waiting: (() => void)[] = [];

	constructor(readonly size: number) {}

	async run<T>(task: () => Promise<T>): Promise<T> {
		if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
		else this.active += 1;
		try {
			return await task();
		} finally {
			const next = this.waiting.shift();
			if (next) next();
			else this.active -= 1;
		}
	}
}
