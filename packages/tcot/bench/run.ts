// `pnpm bench`: runs each scenario in its own process (peak RSS per scenario) against the built dist/, and the
// Python in-memory peer of the interleaving in the same run; writes bench/results/tcot.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { alignedArticles } from "../test/udhr.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const PAIRS = 1_000_000;
const ENGLISH = 1_000_000;

function scenario(...args: string[]): Record<string, unknown> {
	const run = spawnSync(process.execPath, ["--import", "tsx", join(here, "scenarios.ts"), ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
	if (run.status !== 0) throw new Error(`scenario ${args.join(" ")} failed:\n${run.stderr}`);
	return JSON.parse(run.stdout.trim().split("\n").at(-1) as string) as Record<string, unknown>;
}

function python(...args: string[]): Record<string, unknown> | { skipped: string } {
	const run = spawnSync("python3", args, { encoding: "utf8", maxBuffer: 1 << 24 });
	if (run.error || run.status !== 0) return { skipped: `python3 peer did not run: ${run.error?.message ?? run.stderr}` };
	return JSON.parse(run.stdout.trim()) as Record<string, unknown>;
}

const articlesFile = join(tmpdir(), `tcot-bench-articles-${process.pid}.json`);
writeFileSync(articlesFile, JSON.stringify(alignedArticles()));
// Build: ours and the Python peer on the same records file, alternated ROUNDS times (the machine is shared: per
// CPU-second figures, and the best run of each; the load average after each run is noted beside it).
const BUILD_RECORDS = Number(process.env.TCOT_BENCH_BUILD_RECORDS ?? 50_000);
const ROUNDS = Number(process.env.TCOT_BENCH_ROUNDS ?? 3);
const recordsFile = join(tmpdir(), `tcot-bench-records-${process.pid}.jsonl`);
scenario("records", String(BUILD_RECORDS), recordsFile);
const buildRuns: { ours: Record<string, unknown>[]; peer: Record<string, unknown>[] } = { ours: [], peer: [] };
for (let round = 0; round < ROUNDS; round++) {
	buildRuns.ours.push({ ...scenario("build", recordsFile), loadAverage: loadavg()[0] });
	buildRuns.peer.push({ ...python(join(here, "peer_build.py"), recordsFile, join(here, "..", "src", "translation-templates.json"), join(tmpdir(), `tcot-bench-peer-${process.pid}`)), loadAverage: loadavg()[0] });
}
const best = (runs: Record<string, unknown>[]) => Math.max(...runs.map((run) => Number(run.instancesPerCpuSecond ?? 0)));
const results = {
	machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverageAtStart: loadavg() },
	build: { records: BUILD_RECORDS, rounds: ROUNDS, ours: buildRuns.ours, pythonPeer: buildRuns.peer, ratioInstancesPerCpuSecond: best(buildRuns.ours) / best(buildRuns.peer) },
	interleave1m: scenario("interleave", String(PAIRS), String(ENGLISH)),
	interleave1mPythonInMemory: python(join(here, "peer_interleave.py"), String(PAIRS), String(ENGLISH), articlesFile),
	parse: scenario("parse", "200000", "4"),
};
rmSync(recordsFile, { force: true });
rmSync(join(tmpdir(), `tcot-bench-peer-${process.pid}`), { recursive: true, force: true });
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", "tcot.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
