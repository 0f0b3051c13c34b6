// executor: slurm on a real single-node Slurm (slurm-wlm + munge, started and stopped by slurm-cluster.ts): the data
// stages of the quickstart (clean, KD generate and translate with a tiny model, TCOT data, CLO pairs) with world_size 3
// run as sbatch arrays (rank from SLURM_ARRAY_TASK_ID) plus chained
// stage jobs, and their outputs are byte-identical to the local executor's; `status` reads the job states; a rerun
// submits nothing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KD_EXTRA, dataPipeline, kdFixture, outputHashes, transllm } from "./pipeline-fixture.js";
import { slurmUnavailable, startSlurm } from "./slurm-cluster.js";
import type { SlurmCluster } from "./slurm-cluster.js";

const unavailable = slurmUnavailable();
if (unavailable) console.warn(`skipping the Slurm executor test: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("executor: slurm", () => {
	let cluster: SlurmCluster;
	const dir = mkdtempSync(join(tmpdir(), "transllm-slurm-run-"));

	beforeAll(async () => {
		await kdFixture(dir);
		cluster = await startSlurm();
	}, 60_000);
	afterAll(async () => {
		await cluster?.stop();
	});

	it("runs the data stages as job arrays and chained jobs, with outputs byte-identical to the local executor's", async () => {
		// The same folder for both runs (some outputs name their own paths): local first, then Slurm.
		const local = await transllm(["run", dataPipeline(dir, { worldSize: 3, executor: "local", extra: KD_EXTRA })]);
		expect(local.code, local.stdout + local.stderr).toBe(0);
		const expected = outputHashes(join(dir, "work"));
		rmSync(join(dir, "work"), { recursive: true });

		const config = dataPipeline(dir, { worldSize: 3, executor: "slurm", extra: KD_EXTRA });
		const run = await transllm(["run", config], { env: cluster.env });
		expect(run.code, run.stdout + run.stderr).toBe(0);
		expect(run.stdout).toMatch(/^▶ clean: submitted job \d+ after array \d+ \(ranks 0,1,2\)/m);
		expect(run.stdout).toMatch(/^▶ kd-generate: submitted job \d+ after array \d+ \(ranks 0,1,2\)/m);
		expect(run.stdout).toMatch(/^▶ kd-translate: submitted job \d+ after array \d+ \(ranks 0,1,2\)/m);
		expect(run.stdout).toMatch(/^▶ tcot: submitted job \d+/m);
		expect(run.stdout).toMatch(/clean: job \d+_2 COMPLETED/);
		const workdir = join(dir, "work");
		expect(outputHashes(workdir)).toEqual(expected);
		// The array ran the per-rank entry point, one log per rank; the sbatch scripts are kept.
		expect(readdirSync(join(workdir, "logs", "clean")).sort()).toEqual(["rank-0.log", "rank-1.log", "rank-2.log"]);
		expect(readFileSync(join(workdir, "slurm", "clean.ranks.sh"), "utf8")).toContain("stage-rank");
		expect(readdirSync(join(workdir, "logs", "slurm")).filter((name) => name.startsWith("clean-rank-"))).toHaveLength(3);
		expect(existsSync(join(workdir, "report.html"))).toBe(true);

		const status = await transllm(["status", config], { env: cluster.env });
		expect(status.stdout).toMatch(/^clean\s+up to date/m);
		const again = await transllm(["run", config], { env: cluster.env });
		expect(again.stdout).toContain("every stage is up to date");
		expect(again.stdout).not.toContain("submitted");
	});

	it("--detach submits and returns; status reads the job states from squeue", async () => {
		// Extra #SBATCH lines from the config: the job may start only in 3 s, so that status finds it pending.
		const config = dataPipeline(dir, { worldSize: 3, executor: "slurm", slurm: '    sbatch_lines: ["--begin=now+3"]' });
		const detached = await transllm(["run", config, "--only", "clo", "--force", "clo", "--detach"], { env: cluster.env });
		expect(detached.code, detached.stdout + detached.stderr).toBe(0);
		const id = /▶ clo: submitted job (\d+)/.exec(detached.stdout)?.[1];
		expect(id).toBeDefined();
		const status = await transllm(["status", config], { env: cluster.env });
		expect(status.stdout).toMatch(new RegExp(`^clo\\s+slurm ${id} (PENDING|RUNNING)`, "m"));
		const deadline = Date.now() + 60_000;
		let last = "";
		while (Date.now() < deadline) {
			last = (await transllm(["status", config], { env: cluster.env })).stdout;
			if (/^clo\s+up to date/m.test(last)) break;
			await new Promise((resolve) => setTimeout(resolve, 1000));
		}
		expect(last).toMatch(/^clo\s+up to date/m);
	});
});
