/**
 * MurmurHash3 x86 32-bit over bytes `[start, end)` with a seed: the same values as the reference C
 * implementation (and Python's `mmh3.hash(data, seed, signed=False)`), so signatures can be reproduced
 * elsewhere.
 */
export function murmur3Bytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
	let h = seed >>> 0;
	const length = end - start;
	const blocksEnd = start + (length & ~3);
	let i = start;
	for (; i < blocksEnd; i += 4) {
		let k = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
		k = Math.imul(k, 0xcc9e2d51);
		k = (k << 15) | (k >>> 17);
		k = Math.imul(k, 0x1b873593);
		h ^= k;
		h = (h << 13) | (h >>> 19);
		h = (Math.imul(h, 5) + 0xe6546b64) | 0;
	}
	let k = 0;
	switch (length & 3) {
		case 3:
			k ^= (bytes[i + 2] as number) << 16;
		// falls through
		case 2:
			k ^= (bytes[i + 1] as number) << 8;
		// falls through
		case 1:
			k ^= bytes[i] as number;
			k = Math.imul(k, 0xcc9e2d51);
			k = (k << 15) | (k >>> 17);
			k = Math.imul(k, 0x1b873593);
			h ^= k;
	}
	h ^= length;
	return finalMix32(h);
}

/** MurmurHash3 x86 32-bit of `count` little-endian 32-bit words starting at `start` (band keys). */
export function murmur3Words(words: Uint32Array, start: number, count: number, seed: number): number {
	let h = seed >>> 0;
	for (let i = start; i < start + count; i++) {
		let k = Math.imul(words[i] as number, 0xcc9e2d51);
		k = (k << 15) | (k >>> 17);
		k = Math.imul(k, 0x1b873593);
		h ^= k;
		h = (h << 13) | (h >>> 19);
		h = (Math.imul(h, 5) + 0xe6546b64) | 0;
	}
	h ^= count * 4;
	return finalMix32(h);
}

/** Murmur3's finaliser: a bijection on 32-bit integers with full avalanche. */
export function finalMix32(value: number): number {
	let h = value;
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	h ^= h >>> 16;
	return h >>> 0;
}
