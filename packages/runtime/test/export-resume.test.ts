import { spawnSync } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../src/export/index.js";
import { buildLlamaFixture } from "../src/fixture/index.js";
import { tempDir } from "./graph-test-helpers.js";

// Issue 12: an export killed midway continues with --resume to the same files as an uninterrupted one.
const CHILD = fileURLToPath(new URL("./fixtures/export-and-die.ts", import.meta.url));
let root: string;
let hf: string;

beforeAll(async () => {
	root = await tempDir("export-resume");
	hf = join(root, "hf");
	await buildLlamaFixture({ dir: hf, layers: 4, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, seed: 7 });
}, 120_000);

describe("exportModel after kill -9", () => {
	it("resumes from the durable weights to byte-identical files, and refuses other settings", async () => {
		const clean = await exportModel({ model: hf, out: join(root, "clean"), precision: "int4", progress: false });
		expect(clean.resumedWeights).toBe(0);
		const out = join(root, "killed");
		const child = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", CHILD, hf, out, "9"], { encoding: "utf8", timeout: 120_000 });
		expect(child.signal, child.stdout + child.stderr).toBe("SIGKILL");
		await expect(stat(out)).rejects.toThrow();
		const progress = JSON.parse(await readFile(join(`${out}.partial`, "export-progress.json"), "utf8")) as { weights: number };
		expect(progress.weights).toBeGreaterThanOrEqual(9);

		await expect(exportModel({ model: hf, out, precision: "int8", resume: true, progress: false })).rejects.toThrow(/other settings[^]*precision/);
		const resumed = await exportModel({ model: hf, out, precision: "int4", resume: true, progress: false });
		expect(resumed.resumedWeights).toBeGreaterThanOrEqual(9);
		for (const file of ["model.onnx", "model.onnx_data", "config.json", "tokenizer.json"]) {
			expect((await readFile(join(out, file))).equals(await readFile(join(root, "clean", file))), file).toBe(true);
		}
		await expect(stat(join(out, "export-progress.json"))).rejects.toThrow();
	}, 180_000);
});
