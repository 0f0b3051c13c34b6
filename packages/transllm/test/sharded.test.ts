// Sharded stages beyond clean: KD generate, KD translate and TCOT build run as ranks (local worker processes here; a Slurm array
// in slurm.test.ts), each rank answering / translating items r, r+W, … into its own part, and the finishing step
// merges the parts in input order (TCOT: rank r builds the instances of the records whose id hashes to r, the
// finishing step mixes all). The final outputs of world_size 3 are byte-identical to world_size 1's.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { KD_EXTRA, dataPipeline, kdFixture, outputHashes, transllm } from "./pipeline-fixture.js";

describe("sharded KD and TCOT stages", () => {
	const dir = mkdtempSync(join(tmpdir(), "transllm-sharded-"));
	beforeAll(() => kdFixture(dir), 60_000);

	it("world_size 3 writes per-rank parts whose merge is byte-identical to world_size 1", async () => {
		const single = await transllm(["run", dataPipeline(dir, { worldSize: 1, extra: KD_EXTRA })]);
		expect(single.code, single.stdout + single.stderr).toBe(0);
		expect(single.stdout).toMatch(/^✓ kd-generate .*records 4/m);
		const expected = outputHashes(join(dir, "work"));
		expect(Object.keys(expected)).toEqual(expect.arrayContaining(["kd-generate/kd.en.jsonl", "kd-translate/th.jsonl", "kd-translate/th.checked.jsonl", "tcot/train.jsonl"]));
		rmSync(join(dir, "work"), { recursive: true });

		const sharded = await transllm(["run", dataPipeline(dir, { worldSize: 3, extra: KD_EXTRA })]);
		expect(sharded.code, sharded.stdout + sharded.stderr).toBe(0);
		expect(outputHashes(join(dir, "work"))).toEqual(expected);
		// Each rank wrote its own part and log: 4 queries over 3 ranks are 2, 1 and 1.
		const part = (rank: number) => readFileSync(join(dir, "work", "kd-generate", "ranks", `kd.en.${rank}.jsonl`), "utf8").trim().split("\n");
		expect([0, 1, 2].map((rank) => part(rank).length)).toEqual([2, 1, 1]);
		expect(existsSync(join(dir, "work", "kd-translate", "ranks", "th.2.jsonl"))).toBe(true);
		expect(readdirSync(join(dir, "work", "logs", "kd-translate")).sort()).toEqual(["rank-0.log", "rank-1.log", "rank-2.log"]);
		// The 20 translated records (and 4 KD records) spread over the TCOT ranks by id; every rank built some.
		const instances = [0, 1, 2].map((rank) => readFileSync(join(dir, "work", "tcot", "ranks", `instances.${rank}.jsonl`), "utf8").trim().split("\n").length - 1);
		for (const count of instances) expect(count).toBeGreaterThan(0);
	}, 240_000);
});
