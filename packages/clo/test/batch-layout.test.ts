import { describe, expect, it } from "vitest";
import { buildCloPair, cloRows, layoutCloBatches } from "../src/index.js";
import { udhrRecords } from "./udhr.js";

const pairs = udhrRecords("sw", 15).map((record) => buildCloPair(record, { id: String(record.id), lang: "sw" }));

describe("layoutCloBatches", () => {
	it("shuffles whole pairs, holds out validation pairs and drops only what cannot fill a step", () => {
		const layout = layoutCloBatches(pairs, { perDeviceBatchSize: 4, devices: 3, seed: 1, validationPairs: 2 });
		// a step is 4 × 3 = 12 rows = 6 pairs: 13 pairs → 12 in 2 steps, 1 dropped
		expect(layout).toMatchObject({ pairsPerDeviceBatch: 2, rowsPerStep: 12, steps: 2 });
		expect(layout.train).toHaveLength(12);
		expect(layout.validation).toHaveLength(2);
		expect(layout.dropped).toHaveLength(1);
		const ids = [...layout.train, ...layout.validation, ...layout.dropped].map((pair) => pair.id);
		expect(ids.sort()).toEqual(pairs.map((pair) => pair.id).sort());
		expect(layout.train.map((pair) => pair.id)).not.toEqual(pairs.slice(0, 12).map((pair) => pair.id));
		// every per-device batch of 4 rows is two whole pairs, English row first
		const rows = [...cloRows(layout.train)];
		for (let start = 0; start < rows.length; start += 4) {
			const batch = rows.slice(start, start + 4);
			expect(batch.map((row) => row.row)).toEqual(["en", "target", "en", "target"]);
			expect(batch[0]?.pair_id).toBe(batch[1]?.pair_id);
			expect(batch[2]?.pair_id).toBe(batch[3]?.pair_id);
		}
		expect(layoutCloBatches(pairs, { perDeviceBatchSize: 4, devices: 3, seed: 1, validationPairs: 2 }).train).toEqual(layout.train);
	});

	it("keeps a short last step with remainder keep", () => {
		const layout = layoutCloBatches(pairs, { perDeviceBatchSize: 8, devices: 1, remainder: "keep" });
		expect(layout).toMatchObject({ steps: 4, dropped: [] });
		expect(layout.train).toHaveLength(15);
	});

	it("refuses geometries that would split a pair", () => {
		expect(() => layoutCloBatches(pairs, { perDeviceBatchSize: 5 })).toThrow(/even integer/);
		expect(() => layoutCloBatches(pairs, { perDeviceBatchSize: 0 })).toThrow(/even integer/);
		expect(() => layoutCloBatches(pairs, { perDeviceBatchSize: 4, devices: 0 })).toThrow(/devices/);
		expect(() => layoutCloBatches(pairs, { perDeviceBatchSize: 4, validationPairs: 16 })).toThrow(/cannot hold out 16/);
	});
});
