/**
 * Disjoint sets over document indices 0..n−1 (path halving; the smaller index becomes the root, so a
 * cluster's root is its first document). 4 bytes per document.
 */
export class UnionFind {
	readonly parent: Int32Array;

	constructor(size: number) {
		this.parent = new Int32Array(size);
		for (let i = 0; i < size; i++) this.parent[i] = i;
	}

	find(x: number): number {
		const parent = this.parent;
		let node = x;
		while (parent[node] !== node) {
			const grand = parent[parent[node] as number] as number;
			parent[node] = grand;
			node = grand;
		}
		return node;
	}

	/** Joins the sets of a and b; false when they were already one set. */
	union(a: number, b: number): boolean {
		const rootA = this.find(a);
		const rootB = this.find(b);
		if (rootA === rootB) return false;
		if (rootA < rootB) this.parent[rootB] = rootA;
		else this.parent[rootA] = rootB;
		return true;
	}
}
