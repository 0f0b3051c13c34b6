// The report of a real pipeline run (clean, fertility with Llama-3's real tokenizer, pre-training text, TCOT data,
// CLO pairs), opened in headless Chromium: no console error, no broken image, every chart rendered; a PNG
// screenshot goes to packages/transllm/test-output/report.png.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { chromiumPath, checkPage } from "./chromium.js";
import { dataPipeline, root, transllm } from "./pipeline-fixture.js";

if (!chromiumPath) console.warn("skipping the report's browser check: chromium is not installed (.ci/setup.d/41-chromium.sh)");

describe("report.html", () => {
	it.skipIf(!chromiumPath)("renders in headless Chromium with no console error and no broken image", async () => {
		const dir = mkdtempSync(join(tmpdir(), "transllm-report-"));
		const config = dataPipeline(dir);
		const tokenizer = join(root, "examples", "quickstart", "node_modules", "@lenml", "tokenizer-llama3", "models");
		writeFileSync(
			config,
			readFileSync(config, "utf8")
				.replace("  model: model\n", `  model: model\n  tokenizer: ${tokenizer}\n`)
				.replace("fertility:\n  enabled: false\n", "fertility:\n  k: [20, 50]\n  patch_pretokenizer: true\n"),
		);
		const run = await transllm(["run", config]);
		expect(run.code, run.stdout + run.stderr).toBe(0);
		const html = readFileSync(join(dir, "work", "report.html"), "utf8");
		expect(html).not.toMatch(/<script|<img|<link|https?:\/\/(?!www\.w3\.org)/);
		const report = JSON.parse(readFileSync(join(dir, "work", "report.json"), "utf8")) as { stages: { name: string; state: string }[] };
		expect(report.stages.filter((s) => s.state === "done").map((s) => s.name)).toEqual(["clean", "fertility", "pretraining", "tcot", "clo"]);

		const page = await checkPage(join(dir, "work", "report.html"));
		expect(page.errors).toEqual([]);
		expect(page.brokenImages).toEqual([]);
		// The dropped-documents chart of clean and the fertility curve, both drawn.
		expect(page.svgs.length).toBeGreaterThanOrEqual(2);
		for (const svg of page.svgs) expect(svg.width * svg.height).toBeGreaterThan(1000);
		expect(page.text).toContain("th: 39 documents read → 31 after filters → 28 kept");
		expect(page.text).toMatch(/training-data mix/);
		expect(page.png.subarray(1, 4).toString("latin1")).toBe("PNG");
		expect(page.png.length).toBeGreaterThan(20_000);
		const out = join(dirname(fileURLToPath(import.meta.url)), "..", "test-output");
		mkdirSync(out, { recursive: true });
		writeFileSync(join(out, "report.png"), page.png);
	});
});
