// kill -9 of `transllm run` at several moments, then `run` again: the final outputs (every file the lock file
// records) are byte-identical (sha256) to an uninterrupted run's. TRANSLLM_FAULT makes the run SIGKILL itself at an
// exact point (inside the sharded clean stage with ranks still running, between stages, while writing the report);
// one more kill comes from outside at whatever moment the run has reached.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { dataPipeline, outputHashes, transllm } from "./pipeline-fixture.js";

const root = mkdtempSync(join(tmpdir(), "transllm-kill-"));
// Every run uses the same folder (some outputs name their own paths, e.g. llamafactory_args.yaml's dataset_dir):
// the uninterrupted run's work dir is cleared before each interrupted one.
const setup = (_name: string) => {
	rmSync(join(root, "work"), { recursive: true, force: true });
	return { config: dataPipeline(root, { worldSize: 3 }), workdir: join(root, "work") };
};
const recorded = (workdir: string): string[] =>
	existsSync(join(workdir, "transllm.lock.json")) ? Object.keys((JSON.parse(readFileSync(join(workdir, "transllm.lock.json"), "utf8")) as { stages: object }).stages) : [];

let baseline: Record<string, string>;

beforeAll(async () => {
	const { config, workdir } = setup("baseline");
	const run = await transllm(["run", config]);
	expect(run.code, run.stdout + run.stderr).toBe(0);
	baseline = outputHashes(workdir);
}, 120_000);

describe.sequential("kill -9, then run again", () => {
	it("at fixed points: inside the sharded stage, between stages, while writing the report", async () => {
		expect(Object.keys(baseline)).toContain("clean/th/dedup/kept/00000.jsonl");
		const { config, workdir } = setup("points");

		const inside = await transllm(["run", config], { env: { TRANSLLM_FAULT: "ranks:clean" } });
		expect(inside.code).toBe(null);
		expect(recorded(workdir)).toEqual([]);
		// One rank finished (its marker), the run died with the others still running (they stop with it).
		expect(readdirSync(join(workdir, "clean", ".ranks")).length).toBeGreaterThanOrEqual(1);

		const between = await transllm(["run", config], { env: { TRANSLLM_FAULT: "after:pretraining" } });
		expect(between.code).toBe(null);
		expect(between.stdout).toMatch(/^▶ clean: .*\(never ran\)$/m);
		expect(recorded(workdir).sort()).toEqual(["clean", "pretraining"]);

		const report = await transllm(["run", config], { env: { TRANSLLM_FAULT: "report" } });
		expect(report.code).toBe(null);
		expect(report.stdout).toContain("= clean: up to date");
		expect(existsSync(join(workdir, "report.json"))).toBe(true);
		expect(existsSync(join(workdir, "report.html"))).toBe(false);

		const last = await transllm(["run", config]);
		expect(last.code, last.stderr).toBe(0);
		expect(last.stdout).toContain("every stage is up to date");
		expect(existsSync(join(workdir, "report.html"))).toBe(true);
		expect(outputHashes(workdir)).toEqual(baseline);
	});

	it("from outside, as soon as the first rank's log appears", async () => {
		const { config, workdir } = setup("outside");
		const killed = await transllm(["run", config], {
			onSpawn(child) {
				const timer = setInterval(() => {
					if (existsSync(join(workdir, "logs", "clean"))) {
						clearInterval(timer);
						child.kill("SIGKILL");
					}
				}, 5);
				child.on("close", () => clearInterval(timer));
			},
		});
		expect(killed.code).toBe(null);
		expect(recorded(workdir)).not.toContain("tcot");
		const again = await transllm(["run", config]);
		expect(again.code, again.stdout + again.stderr).toBe(0);
		expect(outputHashes(workdir)).toEqual(baseline);
	});
});
