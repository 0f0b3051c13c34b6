/** Hashes a string or number seed to four 32-bit words (cyrb128), so that nearby seeds give unrelated streams. */
function seedWords(seed: string | number): [number, number, number, number] {
	const text = typeof seed === "number" ? `#${seed}` : seed;
	let h1 = 1779033703;
	let h2 = 3144134277;
	let h3 = 1013904242;
	let h4 = 2773480762;
	for (let i = 0; i < text.length; i++) {
		const k = text.charCodeAt(i);
		h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
		h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
		h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
		h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
	}
	h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
	h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
	h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
	h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
	return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

/**
 * A seeded pseudo-random generator (sfc32): the same seed gives the same stream on every platform, which makes
 * data mixing, splits and sampling reproducible. `fork(label)` derives an independent stream per purpose, so
 * adding a draw in one place does not shift every other one.
 */
export class SeededRng {
	private a: number;
	private b: number;
	private c: number;
	private d: number;
	readonly seed: string | number;

	constructor(seed: string | number) {
		this.seed = seed;
		[this.a, this.b, this.c, this.d] = seedWords(seed);
		for (let i = 0; i < 12; i++) this.nextUint32();
	}

	/** A uniform 32-bit unsigned integer. */
	nextUint32(): number {
		const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
		this.d = (this.d + 1) >>> 0;
		this.a = this.b ^ (this.b >>> 9);
		this.b = (this.c + (this.c << 3)) >>> 0;
		this.c = (this.c << 21) | (this.c >>> 11);
		this.c = (this.c + t) >>> 0;
		return t;
	}

	/** A uniform float in [0, 1) with 53 random bits. */
	float(): number {
		const high = this.nextUint32() >>> 5;
		const low = this.nextUint32() >>> 6;
		return (high * 67108864 + low) / 9007199254740992;
	}

	/** A uniform integer in [0, n), without modulo bias. */
	int(n: number): number {
		if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
		if (n > 0x100000000) return Math.floor(this.float() * n);
		const limit = 0x100000000 - (0x100000000 % n);
		for (;;) {
			const x = this.nextUint32();
			if (x < limit) return x % n;
		}
	}

	/** True with probability p. */
	bernoulli(p: number): boolean {
		return this.float() < p;
	}

	/** A standard normal draw (Box–Muller), scaled: normal(mean, std). */
	normal(mean = 0, std = 1): number {
		let u = 0;
		while (u === 0) u = this.float();
		const v = this.float();
		return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
	}

	/** Shuffles in place (Fisher–Yates) and returns the array. */
	shuffle<T>(items: T[]): T[] {
		for (let i = items.length - 1; i > 0; i--) {
			const j = this.int(i + 1);
			const swap = items[i] as T;
			items[i] = items[j] as T;
			items[j] = swap;
		}
		return items;
	}

	/** k distinct items chosen uniformly, in random order. */
	sample<T>(items: readonly T[], k: number): T[] {
		const copy = items.slice();
		const take = Math.min(k, copy.length);
		for (let i = 0; i < take; i++) {
			const j = i + this.int(copy.length - i);
			const swap = copy[i] as T;
			copy[i] = copy[j] as T;
			copy[j] = swap;
		}
		return copy.slice(0, take);
	}

	/** One item chosen uniformly. */
	pick<T>(items: readonly T[]): T {
		if (items.length === 0) throw new RangeError("pick() from an empty list");
		return items[this.int(items.length)] as T;
	}

	/** An independent generator for one purpose, derived from this seed and a label. */
	fork(label: string): SeededRng {
		return new SeededRng(`${String(this.seed)}/${label}`);
	}
}

/**
 * Reservoir sampling (Algorithm R) over a stream: keeps k items chosen uniformly from everything offered.
 */
export class Reservoir<T> {
	readonly items: T[] = [];
	seen = 0;
	constructor(
		readonly k: number,
		private readonly rng: SeededRng,
	) {}

	offer(item: T): void {
		this.seen += 1;
		if (this.items.length < this.k) this.items.push(item);
		else {
			const j = Math.floor(this.rng.float() * this.seen);
			if (j < this.k) this.items[j] = item;
		}
	}
}
