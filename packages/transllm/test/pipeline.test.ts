// `transllm run` on the quickstart's real data (the stages that need no model), through the built CLI: the lock
// file's up-to-date keys, the plan and its reasons, stage selection, the run lock, pre-flight and --keep-going.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { dataPipeline, transllm } from "./pipeline-fixture.js";

const ran = (stdout: string): string[] => [...stdout.matchAll(/^▶ ([a-z-]+):/gm)].map((m) => m[1] as string);
const lockOf = (workdir: string) => JSON.parse(readFileSync(join(workdir, "transllm.lock.json"), "utf8")) as { stages: Record<string, { key: string; outputs: Record<string, string>; figures: Record<string, unknown> }> };

describe("transllm run", () => {
	let dir: string;
	let config: string;
	let workdir: string;

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), "transllm-run-"));
		config = dataPipeline(dir);
		workdir = join(dir, "work");
	});

	it("runs every enabled stage into <workdir>/<stage>/, then a second run does nothing", async () => {
		const first = await transllm(["run", config]);
		expect(first.code, first.stderr).toBe(0);
		expect(ran(first.stdout)).toEqual(["clean", "pretraining", "tcot", "clo"]);
		expect(first.stdout).toMatch(/^✓ clean in [\d.]+ s — th: read 39, filtered 31, kept 28/m);
		const lock = lockOf(workdir);
		expect(Object.keys(lock.stages).sort()).toEqual(["clean", "clo", "pretraining", "tcot"]);
		for (const [stage, record] of Object.entries(lock.stages)) for (const path of Object.keys(record.outputs)) expect(path.startsWith(`${stage}/`), path).toBe(true);
		expect(existsSync(join(workdir, "logs", "clean.log"))).toBe(true);
		expect(readFileSync(join(workdir, "tcot", "train.jsonl"), "utf8")).toMatch(/<TH>/);

		const second = await transllm(["run", config]);
		expect(second.code).toBe(0);
		expect(ran(second.stdout)).toEqual([]);
		expect(second.stdout).toContain("every stage is up to date");
		expect(lockOf(workdir)).toEqual(lock);

		const status = await transllm(["status", config]);
		expect(status.stdout).toMatch(/^clean\s+up to date\s+th: read 39/m);
		expect(status.stdout).toMatch(/^kd-generate\s+off \(no `kd` section\)/m);
	});

	it("reruns a stage whose settings or inputs changed, and the stages its outputs feed", async () => {
		writeFileSync(config, readFileSync(config, "utf8").replace("val_size: 4", "val_size: 6"));
		const plan = await transllm(["run", config, "--dry-run"]);
		expect(plan.stdout).toMatch(/^run\s+tcot\s+settings changed$/m);
		expect(plan.stdout).toMatch(/^up to date\s+clean/m);
		expect(ran((await transllm(["run", config])).stdout)).toEqual(["tcot"]);

		const english = join(dir, "data", "english.jsonl");
		writeFileSync(english, `${readFileSync(english, "utf8")}{"text":"One more English line for the pre-training text."}\n`);
		const plan2 = await transllm(["run", config, "--dry-run"]);
		expect(plan2.stdout).toMatch(/^run\s+pretraining\s+input changed: .*english\.jsonl$/m);
		expect(plan2.stdout).toMatch(/^run\s+tcot\s+upstream pretraining reruns$/m);
		expect(plan2.stdout).toMatch(/^up to date\s+clo/m);
		const rerun = await transllm(["run", config]);
		expect(ran(rerun.stdout)).toEqual(["pretraining", "tcot"]);
		expect(rerun.stdout).toContain("= clean: up to date");
	});

	it("selects stages with --only, --from, --to and --force, and reruns a stage whose output is gone", async () => {
		const before = lockOf(workdir).stages.clo?.key;
		expect(ran((await transllm(["run", config, "--only", "clo", "--force", "clo"])).stdout)).toEqual(["clo"]);
		expect(lockOf(workdir).stages.clo?.key).toBe(before);
		expect(ran((await transllm(["run", config, "--from", "pretraining", "--to", "tcot", "--force", "all"])).stdout)).toEqual(["pretraining", "tcot"]);
		rmSync(join(workdir, "clo", "th", "pairs.jsonl"));
		const plan = await transllm(["run", config, "--dry-run"]);
		expect(plan.stdout).toMatch(/^run\s+clo\s+output missing: clo\/th\/pairs\.jsonl$/m);
		const bad = await transllm(["run", config, "--only", "cleaning"]);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain("--only cleaning: no such stage; stages: clean, fertility");
	});

	it("refuses a second run on the same work dir, naming the holder's pid and host; a dead holder's lock is taken over", async () => {
		const lockPath = join(workdir, "transllm.run.lock");
		writeFileSync(lockPath, JSON.stringify({ pid: process.pid, host: hostname(), started: "2026-01-01T00:00:00Z", command: "transllm run" }));
		const refused = await transllm(["run", config]);
		expect(refused.code).not.toBe(0);
		expect(refused.stderr).toContain(`pid ${process.pid} on ${hostname()}`);
		expect((await transllm(["status", config])).stdout).toContain(`a run holds the work dir: pid ${process.pid}`);
		writeFileSync(lockPath, JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), started: "2026-01-01T00:00:00Z" }));
		const taken = await transllm(["run", config]);
		expect(taken.code, taken.stderr).toBe(0);
		expect(existsSync(lockPath)).toBe(false);
	});
});

describe("transllm run: faults before and during the work", () => {
	it("pre-flight: every missing input is named before any stage starts; --check runs it alone", async () => {
		const dir = mkdtempSync(join(tmpdir(), "transllm-check-"));
		const config = dataPipeline(dir);
		const ok = await transllm(["run", config, "--check"]);
		expect(ok.stdout).toContain("pre-flight ok: 4 stage(s) would run (clean, pretraining, tcot, clo)");
		rmSync(join(dir, "data", "corpus-1.th.jsonl"));
		rmSync(join(dir, "data", "english.jsonl"));
		const failed = await transllm(["run", config]);
		expect(failed.code).toBe(2);
		expect(failed.stderr).toContain("pre-flight found 2 problem(s); nothing was run");
		expect(failed.stderr).toContain(`languages.th: not found: ${join(dir, "data", "corpus-1.th.jsonl")}`);
		expect(failed.stderr).toContain(`languages.th: not found: ${join(dir, "data", "english.jsonl")}`);
		expect(existsSync(join(dir, "work", "clean"))).toBe(false);
	});

	it("a failing stage stops the run with its reason and log; --keep-going still runs the stages that do not depend on it", async () => {
		const dir = mkdtempSync(join(tmpdir(), "transllm-fail-"));
		const config = dataPipeline(dir);
		const pairs = join(dir, "data", "parallel.en-th.jsonl");
		writeFileSync(pairs, `${readFileSync(pairs, "utf8")}{"source": "broken\n`);
		const stopped = await transllm(["run", config]);
		expect(stopped.code).toBe(1);
		expect(stopped.stdout).toMatch(/^✗ pretraining failed: .*parallel\.en-th\.jsonl:49/m);
		expect(stopped.stdout).toContain(`log: ${join(dir, "work", "logs", "pretraining.log")}`);
		expect(ran(stopped.stdout)).toEqual(["clean", "pretraining"]);
		const going = await transllm(["run", config, "--keep-going"]);
		expect(going.code).toBe(1);
		expect(ran(going.stdout)).toEqual(["pretraining", "clo"]);
		expect(going.stdout).toContain("- tcot: skipped, upstream pretraining failed");
		expect(readdirSync(join(dir, "work", "clo", "th"))).toContain("pairs.jsonl");
	});
});
