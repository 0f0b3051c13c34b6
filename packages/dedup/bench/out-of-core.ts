/**
 * The out-of-core benchmark, run in its own process so that its peak memory is its own: streams N generated
 * documents to a JSONL file, deduplicates it with a band-table memory limit, and prints one JSON line with
 * stage times, peak RSS and the disk used by each stage's files (also written to
 * bench/results/dedup-out-of-core-<documents>.json).
 * Usage: tsx bench/out-of-core.ts <documents> <memoryLimitMb> <workDir>
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runDedup } from "@transllm/dedup";
import { streamDocuments } from "./generate-corpus.js";

const documents = Number(process.argv[2] ?? 2_000_000);
const memoryLimitMb = Number(process.argv[3] ?? 256);
const workDir = process.argv[4] ?? "/tmp/transllm-dedup-ooc";
rmSync(workDir, { recursive: true, force: true });
const input = join(workDir, "corpus.jsonl");
const outDir = join(workDir, "out");

function diskBytes(path: string): number {
	const info = statSync(path);
	if (!info.isDirectory()) return info.size;
	return readdirSync(path).reduce((sum, name) => sum + diskBytes(join(path, name)), 0);
}

const generateStart = performance.now();
mkdirSync(workDir, { recursive: true });
const fd = openSync(input, "w");
let written = 0;
let planted = 0;
let chunk: string[] = [];
// Families of ~1.9 documents on average: ask for enough families and stop at `documents`.
for (const document of streamDocuments({ families: Math.ceil(documents / 1.5), seed: "out-of-core" })) {
	if (written === documents) break;
	chunk.push(JSON.stringify({ text: document.text }));
	if (document.kind === "near") planted += 1;
	written += 1;
	if (chunk.length === 10_000) {
		writeSync(fd, `${chunk.join("\n")}\n`);
		chunk = [];
	}
}
if (chunk.length > 0) writeSync(fd, `${chunk.join("\n")}\n`);
closeSync(fd);
const generateSeconds = (performance.now() - generateStart) / 1000;

const start = performance.now();
const run = await runDedup({ inputs: [input], outDir, memoryLimitMb, progress: true });
const seconds = (performance.now() - start) / 1000;
const stats = run.stats;
const stageDisk = Object.fromEntries(
	["signatures", "docs", "shingles", "bands", "candidates", "clusters", "kept", "removed"].map((name) => [name, diskBytes(join(outDir, name))]),
);
const result = {
	command: `tsx bench/out-of-core.ts ${documents} ${memoryLimitMb}`,
	finishedAt: new Date().toISOString(),
	documents: written,
	inputBytes: statSync(input).size,
	plantedNearDuplicates: planted,
	memoryLimitMb,
	workers: availableParallelism(),
	generateSeconds,
	seconds,
	docsPerSecond: written / seconds,
	stageSeconds: stats?.seconds,
	removed: stats?.removed,
	clusters: stats?.clusters,
	shortDocuments: stats?.shortDocuments,
	candidatePairs: stats?.candidatePairs,
	verifications: stats?.verifications,
	bandRunsPerBand: readdirSync(join(outDir, "bands", "b000")).length,
	peakRssMb: process.resourceUsage().maxRSS / 1024,
	stageDiskBytes: stageDisk,
	loadAverage: loadavg(),
};
// Also kept on its own, so that `DEDUP_BENCH_OOC=reuse pnpm bench` can quote a long run done separately.
mkdirSync(join(dirname(fileURLToPath(import.meta.url)), "results"), { recursive: true });
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), "results", `dedup-out-of-core-${documents}.json`), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
rmSync(workDir, { recursive: true, force: true });
