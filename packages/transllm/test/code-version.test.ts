// A stage's key holds the code version of the packages it calls: their version and a content hash of what they ship
// (dist/, data files), so a rebuilt package with other code reruns its stages and the plan names the package.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageCodeVersion } from "../src/pipeline/stage.js";
import { dataPipeline, transllm } from "./pipeline-fixture.js";

describe("code version", () => {
	it("hashes the shipped code and data of a package, not its sources, types, maps or README", () => {
		const root = mkdtempSync(join(tmpdir(), "transllm-codeversion-"));
		const write = (path: string, text: string) => {
			mkdirSync(join(root, path, ".."), { recursive: true });
			writeFileSync(join(root, path), text);
		};
		write("package.json", JSON.stringify({ name: "p", version: "1.2.3", files: ["dist", "src", "python", "README.md"] }));
		write("dist/index.js", "export const a = 1;\n");
		write("dist/index.d.ts", "export declare const a: number;\n");
		write("python/train.py", "print(1)\n");
		write("src/index.ts", "export const a = 1;\n");
		const first = packageCodeVersion(root);
		expect(first).toMatch(/^1\.2\.3\+[0-9a-f]{12}$/);
		write("README.md", "docs\n");
		write("src/index.ts", "export const a = 2;\n");
		write("dist/index.d.ts", "export declare const a: 2;\n");
		write("dist/index.js.map", "{}\n");
		expect(packageCodeVersion(root)).toBe(first);
		write("dist/index.js", "export const a = 2;\n");
		const second = packageCodeVersion(root);
		expect(second).not.toBe(first);
		write("python/train.py", "print(2)\n");
		expect(packageCodeVersion(root)).not.toBe(second);
	});

	it("a stage recorded by other code of a package is stale, the plan naming the package", async () => {
		const dir = mkdtempSync(join(tmpdir(), "transllm-codeversion-run-"));
		const config = dataPipeline(dir);
		expect((await transllm(["run", config, "--only", "clean"])).code).toBe(0);
		const lockPath = join(dir, "work", "transllm.lock.json");
		const lock = JSON.parse(readFileSync(lockPath, "utf8")) as { stages: Record<string, { key: string; codeVersion: string }> };
		const clean = lock.stages.clean as { key: string; codeVersion: string };
		expect(clean.codeVersion).toMatch(/@transllm\/corpus@\d+\.\d+\.\d+\+[0-9a-f]{12}/);
		const current = /@transllm\/corpus@(\S+)/.exec(clean.codeVersion)?.[1] as string;
		// As recorded by a build whose corpus code differed (the key with it).
		clean.codeVersion = clean.codeVersion.replace(`@transllm/corpus@${current}`, "@transllm/corpus@0.1.0+000000000000");
		clean.key = "0".repeat(64);
		writeFileSync(lockPath, JSON.stringify(lock));
		const plan = await transllm(["run", config, "--dry-run"]);
		expect(plan.stdout).toMatch(new RegExp(`^run\\s+clean\\s+code version changed \\(@transllm/corpus 0\\.1\\.0\\+000000000000 → ${current.replace(/[.+]/g, "\\$&")}\\)$`, "m"));
	}, 60_000);
});
