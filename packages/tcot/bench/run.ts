// `pnpm bench`: runs each scenario in its own process (peak RSS per scenario) against the built dist/, and the
// Python in-memory peer of the interleaving in the same run; writes bench/results/tcot.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
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
const results = {
	machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
	build50k: scenario("build", "50000"),
	interleave1m: scenario("interleave", String(PAIRS), String(ENGLISH)),
	interleave1mPythonInMemory: python(join(here, "peer_interleave.py"), String(PAIRS), String(ENGLISH), articlesFile),
	parse: scenario("parse", "200000", "4"),
};
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", "tcot.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
