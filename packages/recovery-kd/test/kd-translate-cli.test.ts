import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGoogleTranslateLoopbackServer } from "../src/index.js";
import type { GoogleLoopbackServer, RunManifest } from "../src/index.js";
import { lineCount, runKdCli, waitFor } from "./cli-helpers.js";
import { udhrParagraphs, udhrThaiTranslator } from "./udhr-text.js";

const KEY = "AIza-cli-SECRET-31337";
let server: GoogleLoopbackServer;
let dir: string;
let input: string;

beforeAll(async () => {
	server = await startGoogleTranslateLoopbackServer({ translate: udhrThaiTranslator(), apiKey: KEY, latencyMs: 25 });
	dir = await mkdtemp(join(tmpdir(), "kd-cli-"));
	const english = udhrParagraphs("eng");
	input = join(dir, "kd.jsonl");
	await writeFile(input, `${english.slice(0, 48).map((text, i) => JSON.stringify({ id: `u${i}`, query_en: text, response_en: english[(i + 7) % english.length] })).join("\n")}\n`);
});
afterAll(async () => {
	await server?.close();
});

const translateArgs = (out: string, extra: string[] = []) => ["kd", "translate", "--input", input, "--lang", "th", "--google", "--google-endpoint", server.endpoint, "--out", out, "--concurrency", "4", ...extra];

describe("transllm kd translate (child process)", () => {
	it("should resume after SIGKILL to a file equal byte for byte to an uninterrupted run's", async () => {
		const env = { GOOGLE_API_KEY: KEY };
		const clean = join(dir, "clean.jsonl");
		const first = await runKdCli(translateArgs(clean), env).done;
		expect(first.code, first.stderr).toBe(0);
		expect(await lineCount(clean)).toBe(48);

		const out = join(dir, "killed.jsonl");
		const killed = runKdCli(translateArgs(out), env);
		await waitFor(async () => (await lineCount(`${out}.partial`)) >= 10);
		killed.child.kill("SIGKILL");
		const dead = await killed.done;
		expect(dead.signal).toBe("SIGKILL");
		await expect(stat(out)).rejects.toThrow();
		const kept = await lineCount(`${out}.partial`);
		expect(kept).toBeLessThan(48);

		const resumed = await runKdCli(translateArgs(out, ["--resume"]), env).done;
		expect(resumed.code, resumed.stderr).toBe(0);
		expect(await readFile(out, "utf8")).toBe(await readFile(clean, "utf8"));
		const manifest = JSON.parse(await readFile(`${out}.manifest.json`, "utf8")) as RunManifest;
		expect(manifest.status).toBe("complete");
		expect(manifest.runs).toHaveLength(2);
		expect(manifest.runs[1]?.resumedRecords).toBeGreaterThanOrEqual(kept - 1);
		expect((manifest.runs[1]?.resumedRecords ?? 0) + (manifest.runs[1]?.producedRecords ?? 0)).toBe(48);
		for (const text of [first.stdout, first.stderr, dead.stdout, dead.stderr, resumed.stdout, resumed.stderr, JSON.stringify(manifest)]) expect(text).not.toContain(KEY);
	});

	it("should stop cleanly on SIGINT, keep the partial output, and resume it", async () => {
		const env = { GOOGLE_API_KEY: KEY };
		const out = join(dir, "interrupted.jsonl");
		const run = runKdCli(translateArgs(out), env);
		await waitFor(async () => (await lineCount(`${out}.partial`)) >= 6);
		run.child.kill("SIGINT");
		const stopped = await run.done;
		expect(stopped.code).toBe(1);
		expect(stopped.stderr).toContain("--resume");
		const manifest = JSON.parse(await readFile(`${out}.manifest.json`, "utf8")) as RunManifest;
		expect(manifest.status).toBe("interrupted");
		const resumed = await runKdCli(translateArgs(out, ["--resume"]), env).done;
		expect(resumed.code, resumed.stderr).toBe(0);
		expect(await readFile(out, "utf8")).toBe(await readFile(join(dir, "clean.jsonl"), "utf8"));
	});

	it("should explain a missing key, a missing backend and an existing output", async () => {
		const missingKey = await runKdCli(translateArgs(join(dir, "x.jsonl")), { GOOGLE_API_KEY: "", GOOGLE_TRANSLATE_API_KEY: "" }).done;
		expect(missingKey.code).toBe(2);
		expect(missingKey.stderr).toContain("GOOGLE_TRANSLATE_API_KEY or GOOGLE_API_KEY");
		const noBackend = await runKdCli(["kd", "translate", "--input", input, "--lang", "th", "--out", join(dir, "y.jsonl")]).done;
		expect(noBackend.code).toBe(2);
		expect(noBackend.stderr).toContain("--google, --endpoint, --model");
		const exists = await runKdCli(translateArgs(join(dir, "clean.jsonl")), { GOOGLE_API_KEY: KEY }).done;
		expect(exists.code).toBe(1);
		expect(exists.stderr).toContain("--force");
		const help = await runKdCli(["kd", "translate", "--help"]).done;
		for (const flag of ["--input", "--lang", "--google", "--endpoint", "--model-name", "--out", "--resume"]) expect(help.stdout).toContain(flag);
	});
});
