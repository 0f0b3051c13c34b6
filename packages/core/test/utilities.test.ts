import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ConfigError, InputError, Reservoir, SeededRng, Stats, TransllmError, createProgress, fileListOption, helpFor, listOption, loadCommandTable, metricVariance, numberOption, runCli } from "../src/index.js";
import type { CliGroup, CommandTable } from "../src/index.js";

describe("SeededRng", () => {
	it("is deterministic per seed and differs across seeds and forks", () => {
		const a = new SeededRng(42);
		const b = new SeededRng(42);
		const xs = Array.from({ length: 5 }, () => a.nextUint32());
		expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
		expect(new SeededRng(43).nextUint32()).not.toBe(xs[0]);
		expect(new SeededRng(42).fork("mix").nextUint32()).not.toBe(new SeededRng(42).fork("split").nextUint32());
	});
	it("draws uniform integers without bias and shuffles into a permutation", () => {
		const rng = new SeededRng("uniform");
		const counts = [0, 0, 0];
		for (let i = 0; i < 30_000; i++) counts[rng.int(3)]! += 1;
		for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
		const items = Array.from({ length: 50 }, (_, i) => i);
		const shuffled = new SeededRng(1).shuffle(items.slice());
		expect(shuffled).not.toEqual(items);
		expect(shuffled.slice().sort((x, y) => x - y)).toEqual(items);
		const normal = Array.from({ length: 20_000 }, () => rng.normal(0, 0.02));
		const mean = normal.reduce((s, x) => s + x, 0) / normal.length;
		const std = Math.sqrt(normal.reduce((s, x) => s + (x - mean) ** 2, 0) / normal.length);
		expect(Math.abs(mean)).toBeLessThan(0.001);
		expect(std).toBeCloseTo(0.02, 3);
	});
	it("reservoir-samples k of a stream", () => {
		const reservoir = new Reservoir<number>(10, new SeededRng(7));
		for (let i = 0; i < 1000; i++) reservoir.offer(i);
		expect(reservoir.items).toHaveLength(10);
		expect(new Set(reservoir.items).size).toBe(10);
		expect(reservoir.seen).toBe(1000);
	});
});

describe("Stats", () => {
	it("merges shards exactly (Welford / Chan)", () => {
		const values = [3, 1, 4, 1, 5, 9, 2, 6];
		const whole = new Stats();
		for (const v of values) whole.observe("len", v);
		const left = new Stats();
		const right = new Stats();
		values.slice(0, 3).forEach((v) => left.observe("len", v));
		values.slice(3).forEach((v) => right.observe("len", v));
		left.count("dropped_short", 2);
		right.count("dropped_short", 3);
		const merged = Stats.fromJSON(left.toJSON()).merge(right);
		expect(merged.counters.dropped_short).toBe(5);
		expect(merged.metrics.len!.mean).toBeCloseTo(whole.metrics.len!.mean, 12);
		expect(metricVariance(merged.metrics.len!)).toBeCloseTo(metricVariance(whole.metrics.len!), 12);
		expect(merged.metrics.len!.max).toBe(9);
	});
});

describe("errors", () => {
	it("recognises transllm errors by marker and formats locations", () => {
		const error = new InputError("missing required field \"text\"", { file: "a.jsonl", line: 3, excerpt: "{}" });
		expect(TransllmError.isInstance(error)).toBe(true);
		expect(TransllmError.isInstance(new Error("x"))).toBe(false);
		expect(error.message).toBe('a.jsonl:3: missing required field "text" — "{}"');
		expect(error.code).toBe("E_INPUT");
	});
});

describe("progress", () => {
	it("prints plain periodic lines when not on a TTY", () => {
		const stream = new PassThrough();
		let out = "";
		stream.on("data", (d: Buffer) => (out += d.toString()));
		const progress = createProgress({ label: "dedup", total: 4, unit: "docs", stream, intervalMs: 0 });
		progress.tick(2);
		progress.tick(2);
		progress.done();
		expect(out).toMatch(/^dedup: 2\/4 docs \(50\.0%\)/m);
		expect(out).not.toContain("\r");
		expect(progress.completed).toBe(4);
	});
});

describe("runCli", () => {
	const table: CommandTable = {
		demo: {
			description: "demo group",
			subcommands: {
				echo: {
					description: "echoes a number",
					options: { count: { type: "string", description: "how many", valueName: "<n>", default: "1" } },
					async run({ values }, { stdout }) {
						stdout.write(`${numberOption(values, "count", 1, { min: 1, integer: true })}\n`);
					},
				},
			},
		},
	};
	function sink(): { stream: PassThrough; text: () => string } {
		const stream = new PassThrough();
		let text = "";
		stream.on("data", (d: Buffer) => (text += d.toString()));
		return { stream, text: () => text };
	}
	it("runs commands, generates help and reports bad flags with exit code 2", async () => {
		const out = sink();
		const err = sink();
		const context = { stdout: out.stream, stderr: err.stream };
		expect(await runCli("transllm", table, ["demo", "echo", "--count", "3"], { context })).toBe(0);
		expect(out.text()).toBe("3\n");
		expect(await runCli("transllm", table, ["demo", "echo", "--count", "x"], { context })).toBe(2);
		expect(err.text()).toContain("--count must be a number");
		expect(await runCli("transllm", table, ["demo", "echo", "--nope"], { context })).toBe(2);
		expect(helpFor("transllm", table, ["demo", "echo"])).toContain("--count <n>");
		expect(helpFor("transllm", table, ["demo"])).toContain("echo");
		expect(() => helpFor("transllm", table, ["nope"])).toThrow(ConfigError);
	});

	it("loads a lazy entry only when it is run or its help is asked for; the top-level help lists it unloaded", async () => {
		const loads: string[] = [];
		const lazy: CommandTable = {
			demo: { description: "demo group", load: async () => (loads.push("demo"), table.demo as CliGroup) },
			other: { description: "never run", load: async () => (loads.push("other"), table.demo as CliGroup) },
		};
		const out = sink();
		const context = { stdout: out.stream, stderr: sink().stream };
		expect(await runCli("transllm", lazy, ["--help"], { context })).toBe(0);
		expect(out.text()).toContain("demo group");
		expect(out.text()).toContain("never run");
		expect(loads).toEqual([]);
		expect(await runCli("transllm", lazy, ["demo", "echo", "--count", "4"], { context })).toBe(0);
		expect(out.text()).toMatch(/4\n$/);
		expect(loads).toEqual(["demo"]);
		expect(() => helpFor("transllm", lazy, ["demo", "echo"])).toThrow(/not loaded/);
		const loaded = await loadCommandTable(lazy);
		expect(helpFor("transllm", loaded, ["demo", "echo"])).toBe(helpFor("transllm", table, ["demo", "echo"]));
		expect(loads).toEqual(["demo", "demo", "other"]);
	});

	it("splits list flags on commas but never file paths", () => {
		expect(listOption({ lang: ["th,ar", "sw"] }, "lang")).toEqual(["th", "ar", "sw"]);
		expect(fileListOption({ input: ["data/a,b.jsonl", "c.jsonl"] }, "input")).toEqual(["data/a,b.jsonl", "c.jsonl"]);
		expect(fileListOption({}, "input")).toEqual([]);
	});
});
