import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError, helpFor, runCli } from "@transllm/core";
import { dedupCommands, layout, runDedup } from "../src/index.js";
import type { RemovedDocument } from "../src/index.js";
import { evaluateRun } from "../bench/evaluate.js";
import { generateCorpus } from "../bench/generate-corpus.js";
import type { Corpus } from "../bench/generate-corpus.js";

const root = mkdtempSync(join(tmpdir(), "transllm-dedup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lines = (path: string): string[] => readFileSync(path, "utf8").split("\n").filter(Boolean);
const writeCorpus = (path: string, docs: Corpus["documents"]): void => writeFileSync(path, `${docs.map((d) => JSON.stringify({ id: d.id, text: d.text, lang: d.lang })).join("\n")}\n`);

describe("runDedup", () => {
	let corpus: Corpus;
	const input = join(root, "corpus.jsonl");
	beforeAll(() => {
		corpus = generateCorpus({ families: 1400, seed: "test-corpus", languages: ["en", "th", "th-ood", "zh"] });
		writeCorpus(input, corpus.documents);
	});

	it("should reach recall ≥ 0.95 and precision ≥ 0.99 at J ≥ 0.8 on planted English, Thai (dictionary and out-of-dictionary words) and Chinese near-duplicates, spilling band runs", async () => {
		const outDir = join(root, "run");
		const result = await runDedup({ inputs: [input], outDir, idField: "id", workers: 0, memoryLimitMb: 0.05, progress: false });
		const stats = result.stats!;
		expect(stats.documents).toBe(corpus.documents.length);
		expect(readdirSync(layout.bandDir(outDir, 0)).length).toBeGreaterThan(1); // several sorted runs, merged
		const accuracy = evaluateRun(outDir, corpus, 0.8);
		expect(accuracy.truePairs).toBeGreaterThan(300);
		expect(accuracy.recall).toBeGreaterThanOrEqual(0.95);
		expect(accuracy.precision).toBeGreaterThanOrEqual(0.99);
		// Duplicates are found in every language, out-of-dictionary Thai included (ICU words found none there).
		const removedIds = new Set(lines(result.outputs.removed[0]!).map((line) => (JSON.parse(line) as RemovedDocument).id));
		for (const lang of ["en", "th", "th-ood", "zh"]) expect(corpus.documents.filter((d) => d.lang === lang && removedIds.has(d.id)).length, lang).toBeGreaterThan(20);
		// Every document is either kept or in the manifest; short documents are kept and counted.
		const kept = lines(result.outputs.kept[0]!).map((line) => JSON.parse(line) as { id: string });
		expect(kept.length + removedIds.size).toBe(corpus.documents.length);
		const shortIds = corpus.documents.filter((d) => d.kind === "short").map((d) => d.id);
		expect(stats.shortDocuments).toBe(shortIds.length);
		const keptIds = new Set(kept.map((d) => d.id));
		for (const id of shortIds) expect(keptIds.has(id)).toBe(true);
		const manifest = JSON.parse(lines(result.outputs.removed[0]!)[0]!) as RemovedDocument;
		expect(keptIds.has(manifest.kept_id)).toBe(true);
		expect(manifest.similarity).toBeGreaterThan(0.5);
		expect(JSON.parse(readFileSync(result.outputs.stats, "utf8")).stats.removed).toBe(stats.removed);
	});

	it("should give the same result with worker threads, signature verification flagging, and keep longest", async () => {
		const small = join(root, "small.jsonl");
		writeCorpus(small, corpus.documents.slice(0, 600));
		const first = await runDedup({ inputs: [small], outDir: join(root, "inline"), idField: "id", workers: 0, progress: false });
		const threaded = await runDedup({ inputs: [small], outDir: join(root, "threads"), idField: "id", workers: 2, progress: false });
		expect(readFileSync(threaded.outputs.removed[0]!, "utf8")).toBe(readFileSync(first.outputs.removed[0]!, "utf8"));
		const longest = await runDedup({ inputs: [small], outDir: join(root, "longest"), idField: "id", workers: 0, keep: "longest", verify: "signature", progress: false });
		const length = new Map(corpus.documents.map((d) => [d.id, d.text.length]));
		for (const line of lines(longest.outputs.removed[0]!)) {
			const entry = JSON.parse(line) as RemovedDocument;
			expect(length.get(entry.kept_id)!).toBeGreaterThanOrEqual(length.get(entry.id)!);
		}
	});

	it("should flag oversized clusters, compare huge buckets as star + chain, and keep by a numeric field", async () => {
		const scored = join(root, "scored.jsonl");
		const docs = corpus.documents.slice(0, 600);
		writeFileSync(scored, `${docs.map((d, i) => JSON.stringify({ id: d.id, text: d.text, score: (i * 7919) % 101 })).join("\n")}\n`);
		const score = new Map(docs.map((d, i) => [d.id, (i * 7919) % 101]));
		const base = { inputs: [scored], idField: "id", workers: 0, progress: false };
		const reference = await runDedup({ ...base, outDir: join(root, "scored-ref") });
		const flagged = await runDedup({ ...base, outDir: join(root, "scored"), keep: { field: "score" }, maxClusterSize: 2, maxBucketSize: 2 });
		expect(flagged.stats!.oversizedClusters).toBeGreaterThan(0);
		expect(flagged.stats!.oversizedBuckets).toBeGreaterThan(0);
		expect(flagged.stats!.removed).toBe(reference.stats!.removed);
		const entries = lines(flagged.outputs.removed[0]!).map((line) => JSON.parse(line) as RemovedDocument);
		expect(entries.some((entry) => entry.oversized === true)).toBe(true);
		expect(lines(join(root, "scored", "clusters", "oversized.jsonl")).length).toBe(flagged.stats!.oversizedClusters);
		for (const entry of entries) expect(score.get(entry.kept_id)!).toBeGreaterThanOrEqual(score.get(entry.id)!);
	});

	it("should resume after an interruption and give the same outputs", async () => {
		const small = join(root, "resume.jsonl");
		writeCorpus(small, corpus.documents.slice(0, 500));
		const outDir = join(root, "resume");
		await runDedup({ inputs: [small], outDir, workers: 0, progress: false, stage: "signatures" });
		await runDedup({ inputs: [small], outDir, workers: 0, progress: false, stage: "buckets" });
		// A crash in the filter stage leaves a torn partial output behind.
		writeFileSync(`${layout.kept(outDir, 0)}.partial`, '{"id":"torn');
		await expect(runDedup({ inputs: [small], outDir, workers: 0, progress: false })).rejects.toThrow(/--resume/);
		const resumed = await runDedup({ inputs: [small], outDir, workers: 0, progress: false, resume: true });
		const fresh = await runDedup({ inputs: [small], outDir: join(root, "resume-fresh"), workers: 0, progress: false });
		expect(readFileSync(resumed.outputs.kept[0]!, "utf8")).toBe(readFileSync(fresh.outputs.kept[0]!, "utf8"));
		expect(resumed.stats?.removed).toBe(fresh.stats?.removed);
		await expect(runDedup({ inputs: [small], outDir, workers: 0, progress: false, resume: true, threshold: 0.7 })).rejects.toThrow(/threshold/);
	});

	it("should redo a signatures rank that stopped half-way, discarding its spilled runs", async () => {
		const path = join(root, "midway.jsonl");
		const docs = corpus.documents;
		const text = (list: Corpus["documents"]): string => `${list.map((d) => JSON.stringify({ id: d.id, text: d.text })).join("\n")}\n`;
		// The run stops at a bad record after ~2,000 documents, with sorted runs already spilled.
		writeFileSync(path, `${text(docs.slice(0, 2000))}{broken\n${text(docs.slice(2000))}`);
		const outDir = join(root, "midway");
		const options = { inputs: [path], outDir, idField: "id", workers: 0, progress: false, memoryLimitMb: 0.05 };
		await expect(runDedup(options)).rejects.toThrow(/invalid JSON/);
		expect(readdirSync(layout.bandDir(outDir, 0)).length).toBeGreaterThan(0);
		writeFileSync(path, text(docs));
		const resumed = await runDedup({ ...options, resume: true });
		const fresh = await runDedup({ ...options, outDir: join(root, "midway-fresh") });
		expect(readdirSync(layout.bandDir(outDir, 0))).toEqual(readdirSync(layout.bandDir(join(root, "midway-fresh"), 0)));
		expect(readFileSync(resumed.outputs.removed[0]!, "utf8")).toBe(readFileSync(fresh.outputs.removed[0]!, "utf8"));
		expect(resumed.stats?.documents).toBe(docs.length);
	});

	it("should spread stages over ranks and match the single-rank result", async () => {
		const parts = [join(root, "part-0.jsonl"), join(root, "part-1.jsonl")];
		const docs = corpus.documents.slice(0, 800);
		writeCorpus(parts[0]!, docs.filter((_, i) => i % 2 === 0));
		writeCorpus(parts[1]!, docs.filter((_, i) => i % 2 === 1));
		const outDir = join(root, "ranks");
		const common = { inputs: parts, outDir, idField: "id", workers: 0, progress: false };
		for (const rank of [1, 0]) await runDedup({ ...common, stage: "signatures", rank, worldSize: 2 });
		for (const rank of [0, 1, 2]) await runDedup({ ...common, stage: "buckets", rank, worldSize: 3 });
		await runDedup({ ...common, stage: "clusters" });
		await expect(runDedup({ ...common, stage: "buckets", rank: 5, worldSize: 3 })).rejects.toThrow(/rank/);
		let result;
		for (const rank of [0, 1]) result = await runDedup({ ...common, stage: "filter", rank, worldSize: 2 });
		const single = join(root, "ranks-single.jsonl");
		writeCorpus(single, docs);
		const reference = await runDedup({ inputs: [single], outDir: join(root, "ranks-ref"), idField: "id", workers: 0, progress: false });
		const removed = (paths: string[]): string[] => paths.flatMap((path) => lines(path).map((line) => (JSON.parse(line) as RemovedDocument).id)).sort();
		// Which member survives may differ (rank order), but the number removed per cluster does not.
		expect(result?.stats?.removed).toBe(reference.stats?.removed);
		expect(removed(result!.outputs.removed).length).toBe(removed(reference.outputs.removed).length);
	});

	it("should dedup a new crawl against an earlier run (incremental)", async () => {
		const old = join(root, "old.jsonl");
		const fresh = join(root, "new.jsonl");
		const families = new Map<number, Corpus["documents"]>();
		for (const d of corpus.documents.slice(0, 700)) families.set(d.family, [...(families.get(d.family) ?? []), d]);
		const oldDocs: Corpus["documents"] = [];
		const newDocs: Corpus["documents"] = [];
		for (const members of families.values()) {
			oldDocs.push(members[0]!);
			newDocs.push(...members.slice(1));
		}
		writeCorpus(old, oldDocs);
		writeCorpus(fresh, newDocs);
		const first = await runDedup({ inputs: [old], outDir: join(root, "crawl-1"), idField: "id", workers: 0, progress: false });
		expect(first.stats?.removed).toBe(0);
		const second = await runDedup({ inputs: [fresh], outDir: join(root, "crawl-2"), idField: "id", workers: 0, progress: false, against: [join(root, "crawl-1")] });
		const oldIds = new Set(oldDocs.map((d) => d.id));
		const entries = lines(second.outputs.removed[0]!).map((line) => JSON.parse(line) as RemovedDocument);
		expect(entries.length).toBeGreaterThan(50);
		expect(entries.filter((entry) => oldIds.has(entry.kept_id)).length).toBeGreaterThan(entries.length * 0.9);
		expect(second.stats!.kept + second.stats!.removed).toBe(newDocs.length);
	});

	it("should follow the core bad-record policy: invalid JSON or UTF-8, missing text, duplicate id, huge document", async () => {
		const bad = join(root, "bad.jsonl");
		const good = corpus.documents.slice(0, 20).map((d) => JSON.stringify({ id: d.id, text: d.text }));
		const huge = JSON.stringify({ id: "huge", text: "word ".repeat(1000) });
		writeFileSync(
			bad,
			Buffer.concat([
				Buffer.from([...good.slice(0, 5), "{not json", JSON.stringify({ id: "x1", body: "no text" }), good[2], ""].join("\n")),
				Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
				Buffer.from([huge, ...good.slice(5)].join("\n")),
			]),
		);
		const options = { inputs: [bad], idField: "id", workers: 0, progress: false, maxDocumentBytes: 4000 };
		const error = await runDedup({ ...options, outDir: join(root, "bad-error") }).catch((e: unknown) => e);
		expect(InputError.isInstance(error)).toBe(true);
		expect((error as InputError).message).toContain(`${bad}:6`);
		const result = await runDedup({ ...options, outDir: join(root, "bad-skip"), onBadRecord: "skip" });
		expect(result.stats?.documents).toBe(20);
		expect(result.stats?.rejected).toBe(5);
		const rejects = lines(result.outputs.rejects[0]!).map((line) => JSON.parse(line) as { line: number; reason: string });
		expect(rejects.map((r) => r.line)).toEqual([6, 7, 8, 9, 10]);
		expect(rejects.map((r) => r.reason)).toEqual([
			expect.stringMatching(/invalid JSON/),
			expect.stringMatching(/missing required field "text"/),
			expect.stringMatching(/duplicate id/),
			expect.stringMatching(/invalid UTF-8/),
			expect.stringMatching(/longer than 4000 bytes/),
		]);
		// The filter stage re-reads the input: the rejects are not written twice.
		expect(lines(result.outputs.kept[0]!).length + result.stats!.removed).toBe(20);
	});
});

describe("dedup CLI", () => {
	const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
		let out = "";
		let err = "";
		const code = await runCli("transllm dedup", dedupCommands, argv, {
			context: { stdout: { write: (s: string) => ((out += s), true) } as NodeJS.WritableStream, stderr: { write: (s: string) => ((err += s), true) } as NodeJS.WritableStream },
		});
		return { code, out, err };
	};

	it("should plan bands and print the S-curve", async () => {
		const { code, out } = await run(["plan", "--threshold", "0.8", "--num-perm", "128", "--fn-weight", "0.5"]);
		expect(code).toBe(0);
		expect(out).toContain("9 × 13");
		expect(out).toMatch(/0\.80 {3}0\.\d{4}/);
	});

	it("should run on a file and document every flag in --help", async () => {
		const plain = join(root, "cli.jsonl");
		const corpus = generateCorpus({ families: 60, seed: "cli", thaiShare: 1 });
		writeCorpus(plain, corpus.documents);
		const input = `${plain}.gz`;
		writeFileSync(input, gzipSync(readFileSync(plain)));
		const { code, out } = await run(["run", input, "--out", join(root, "cli-out"), "--threshold", "0.8", "--lang", "th", "--num-perm", "128", "--ngram", "5", "--workers", "0", "--quiet"]);
		expect(code).toBe(0);
		expect(out).toMatch(/documents: kept \d+, removed \d+/);
		const help = helpFor("transllm dedup", dedupCommands, ["run"]);
		for (const flag of ["--out", "--threshold", "--lang", "--num-perm", "--ngram", "--rank", "--world-size", "--resume", "--against", "--memory-mb"]) expect(help).toContain(flag);
		const bad = await run(["run", input, "--out", join(root, "cli-bad"), "--threshold", "2"]);
		expect(bad.code).toBe(2);
		expect(bad.err).toMatch(/--threshold/);
	});
});
