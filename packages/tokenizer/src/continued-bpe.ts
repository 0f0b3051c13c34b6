/** A pre-token of the training corpus as the base tokenizer segments it, with how often it occurs. */
export interface SegmentedWord {
	symbols: string[];
	count: number;
	/** A corpus line holding this word (the first one), for the checks' witness lines. */
	line?: number;
}

/** One merge learned by continued BPE, in learned order. */
export interface LearnedMerge {
	left: string;
	right: string;
	/** The new token (`left + right`). */
	token: string;
	/** How often the pair occurred when it was chosen. */
	frequency: number;
	/**
	 * The first corpus line whose segmentation after learning holds the token (absent when it only survives inside
	 * longer new tokens, or words carry no lines): where the checks look for it first.
	 */
	line?: number;
}

export interface ContinuedBpeOptions {
	/** How many merges to learn at most. */
	merges: number;
	/** Pairs seen fewer times than this are never merged (default 2): a pair seen once only memorises the corpus. */
	minFrequency?: number;
	/** Whether a pair may be merged (target-script content, token not already in the vocabulary, ...); asked when a pair is first seen and again when it is chosen. */
	isCandidate(left: string, right: string): boolean;
	/** Called after each merge (progress). */
	onMerge?(merge: LearnedMerge, index: number): void;
}

/**
 * Continued BPE (Sennrich et al.'s merge loop) started from the base tokenizer's own segmentation: repeatedly
 * merges the most frequent adjacent pair that `isCandidate` allows, within words only. Ties go to the pair seen
 * first, so the result is deterministic for a given corpus order.
 *
 * Each word is a linked list of symbols in one flat array, and each allowed pair keeps the positions where it
 * occurs (checked lazily), so a merge touches only its own occurrences and their two neighbours, however long
 * the words are (Thai runs between spaces are long); counts sit in a lazy max-heap.
 *
 * The merge list is prefix-consistent: the first k merges of a run with `merges: K` are exactly the run with
 * `merges: k`, which is what the fertility curve over K relies on.
 */
export function learnContinuedBpe(words: readonly SegmentedWord[], options: ContinuedBpeOptions): LearnedMerge[] {
	const minFrequency = options.minFrequency ?? 2;
	const symbolIds = new Map<string, number>();
	const symbolText: string[] = [];
	const intern = (text: string): number => {
		let id = symbolIds.get(text);
		if (id === undefined) {
			id = symbolText.length;
			symbolIds.set(text, id);
			symbolText.push(text);
		}
		return id;
	};
	let total = 0;
	for (const word of words) total += word.symbols.length;
	const symbol = new Int32Array(total);
	const next = new Int32Array(total);
	const prev = new Int32Array(total);
	const weight = new Float64Array(total);
	let at = 0;
	for (const word of words) {
		const start = at;
		for (const text of word.symbols) {
			symbol[at] = intern(text);
			prev[at] = at === start ? -1 : at - 1;
			next[at] = at + 1;
			weight[at] = word.count;
			at += 1;
		}
		if (at > start) next[at - 1] = -1;
	}

	// Pair key: two symbol ids packed into one safe integer.
	const SHIFT = 2 ** 26;
	const pairCount = new Map<number, number>();
	const pairPositions = new Map<number, number[]>();
	const pairOrder = new Map<number, number>();
	const candidate = new Map<number, boolean>();
	const allowed = (key: number): boolean => {
		let ok = candidate.get(key);
		if (ok === undefined) {
			ok = options.isCandidate(symbolText[Math.floor(key / SHIFT)] as string, symbolText[key % SHIFT] as string);
			candidate.set(key, ok);
		}
		return ok;
	};
	const heap = new PairHeap();
	// Counts before the current merge of the pairs it touched: a pair whose count rose is pushed once afterwards;
	// one whose count fell keeps its (higher) heap entry, which is re-queued when it surfaces (see popValid).
	const touched = new Map<number, number>();
	const add = (left: number, right: number, delta: number, position: number): void => {
		const key = left * SHIFT + right;
		if (!allowed(key)) return;
		const before = pairCount.get(key) ?? 0;
		if (!touched.has(key)) touched.set(key, before);
		pairCount.set(key, before + delta);
		if (delta > 0) {
			let positions = pairPositions.get(key);
			if (!positions) {
				positions = [];
				pairPositions.set(key, positions);
				pairOrder.set(key, pairOrder.size);
			}
			positions.push(position);
		}
	};
	const pushTouched = (): void => {
		for (const [key, before] of touched) {
			const count = pairCount.get(key) ?? 0;
			if (count > before) heap.push(count, pairOrder.get(key) as number, key);
		}
		touched.clear();
	};
	for (let i = 0; i < total; i++) if (next[i] !== -1) add(symbol[i] as number, symbol[next[i] as number] as number, weight[i] as number, i);
	pushTouched();

	const learned: LearnedMerge[] = [];
	const learnedSymbols: number[] = [];
	while (learned.length < options.merges) {
		const top = heap.popValid(pairCount, pairOrder);
		if (top === undefined || top.count < minFrequency) break;
		const left = Math.floor(top.key / SHIFT);
		const right = top.key % SHIFT;
		// The filter may depend on what was learned since the pair was first seen (its token may exist by now,
		// built from another split): ask again, and drop the pair for good if it is no longer allowed.
		if (!options.isCandidate(symbolText[left] as string, symbolText[right] as string)) {
			candidate.set(top.key, false);
			pairCount.delete(top.key);
			pairPositions.delete(top.key);
			continue;
		}
		const token = (symbolText[left] as string) + (symbolText[right] as string);
		const merged = intern(token);
		if (symbolText.length >= SHIFT) throw new RangeError(`continued BPE supports at most ${SHIFT} distinct symbols`);
		const merge: LearnedMerge = { left: symbolText[left] as string, right: symbolText[right] as string, token, frequency: top.count };
		learned.push(merge);
		learnedSymbols.push(merged);
		options.onMerge?.(merge, learned.length - 1);
		// Positions are recorded left to right except those added by later merges; order only matters when a
		// pair overlaps itself ("a a a"), where the leftmost occurrence must merge first.
		const recorded = pairPositions.get(top.key) ?? [];
		const positions = left === right ? Int32Array.from(recorded).sort() : recorded;
		pairPositions.delete(top.key);
		pairCount.delete(top.key);
		for (const position of positions) {
			// Stale entries: the pair was merged away or its symbols changed since the position was recorded.
			const second = next[position] as number;
			if (symbol[position] !== left || second === -1 || symbol[second] !== right) continue;
			const count = weight[position] as number;
			const before = prev[position] as number;
			const after = next[second] as number;
			// (The merged pair itself is gone from the counts; an overlapping occurrence such as "a a a" is not
			// counted down twice.)
			if (before !== -1 && !(symbol[before] === left && left === right)) add(symbol[before] as number, left, -count, before);
			if (after !== -1 && !(right === left && symbol[after] === right)) add(right, symbol[after] as number, -count, second);
			symbol[position] = merged;
			symbol[second] = -1;
			next[position] = after;
			if (after !== -1) prev[after] = position;
			if (before !== -1) add(symbol[before] as number, merged, count, before);
			if (after !== -1) add(merged, symbol[after] as number, count, position);
		}
		touched.delete(top.key);
		pushTouched();
	}
	recordWitnessLines(words, symbol, learned, learnedSymbols);
	return learned;
}

/** Sets each learned merge's `line`: the first line of the words whose final segmentation holds its token. */
function recordWitnessLines(words: readonly SegmentedWord[], symbol: Int32Array, learned: LearnedMerge[], learnedSymbols: readonly number[]): void {
	if (learned.length === 0) return;
	const mergeOf = new Map<number, LearnedMerge>(learnedSymbols.map((id, i) => [id, learned[i] as LearnedMerge]));
	// Learned tokens are interned in learned order, after every symbol of the base segmentation.
	const first = learnedSymbols[0] as number;
	let at = 0;
	for (const word of words) {
		const end = at + word.symbols.length;
		if (word.line !== undefined) {
			for (let i = at; i < end; i++) {
				if ((symbol[i] as number) < first) continue;
				const merge = mergeOf.get(symbol[i] as number);
				if (merge && (merge.line === undefined || word.line < merge.line)) merge.line = word.line;
			}
		}
		at = end;
	}
}

/** A max-heap of (count, first-seen order) with lazy updates. */
class PairHeap {
	private counts: number[] = [];
	private orders: number[] = [];
	private keys: number[] = [];

	push(count: number, order: number, key: number): void {
		this.counts.push(count);
		this.orders.push(order);
		this.keys.push(key);
		let i = this.counts.length - 1;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			if (!this.before(i, parent)) break;
			this.swap(i, parent);
			i = parent;
		}
	}

	/**
	 * The best entry whose count is still current. Every stored count is at least the pair's current count, so
	 * the first current entry is the true maximum; a stale one is re-queued with its current count.
	 */
	popValid(current: ReadonlyMap<number, number>, order: ReadonlyMap<number, number>): { count: number; key: number } | undefined {
		while (this.counts.length > 0) {
			const count = this.counts[0] as number;
			const key = this.keys[0] as number;
			this.pop();
			const now = current.get(key) ?? 0;
			if (now === count) return { count, key };
			if (now > 0 && now < count) this.push(now, order.get(key) as number, key);
		}
		return undefined;
	}

	private before(a: number, b: number): boolean {
		const ca = this.counts[a] as number;
		const cb = this.counts[b] as number;
		return ca > cb || (ca === cb && (this.orders[a] as number) < (this.orders[b] as number));
	}

	private swap(a: number, b: number): void {
		for (const array of [this.counts, this.orders, this.keys]) {
			const t = array[a] as number;
			array[a] = array[b] as number;
			array[b] = t;
		}
	}

	private pop(): void {
		const last = this.counts.length - 1;
		this.swap(0, last);
		this.counts.pop();
		this.orders.pop();
		this.keys.pop();
		let i = 0;
		for (;;) {
			const l = 2 * i + 1;
			const r = l + 1;
			let best = i;
			if (l < this.counts.length && this.before(l, best)) best = l;
			if (r < this.counts.length && this.before(r, best)) best = r;
			if (best === i) return;
			this.swap(i, best);
			i = best;
		}
	}
}
