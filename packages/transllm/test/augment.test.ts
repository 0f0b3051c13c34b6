// The LLaMAX augmentation stage: off by default; on, the pretraining stage's checked pairs are code-switched with the
// lexicon of the configured dictionaries (the UDHR word lists of @transllm/corpus's tests: English–French, –German,
// –Thai), and the pseudo-parallel pairs
// join the translation pre-training text that the tcot stage writes.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dataPipeline, root, transllm } from "./pipeline-fixture.js";

const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean);

describe("augment stage", () => {
	it("is off by default; on, its code-switched pairs join the translation pre-training text", async () => {
		const dir = mkdtempSync(join(tmpdir(), "transllm-augment-"));
		const config = dataPipeline(dir);
		const off = await transllm(["run", config]);
		expect(off.code, off.stdout + off.stderr).toBe(0);
		expect(off.stdout).not.toMatch(/^[▶✓=] augment/m);
		const before = lines(join(dir, "work", "tcot", "translation_pretraining.jsonl")).length;

		const dictionaries = ["fr", "de", "th"].map((lang) => {
			copyFileSync(join(root, "packages", "corpus", "test", "fixtures", "udhr-lexicon", `en-${lang}.txt`), join(dir, "data", `en-${lang}.txt`));
			return `    - { path: data/en-${lang}.txt, source_lang: en, target_lang: ${lang} }\n`;
		});
		writeFileSync(config, `${readFileSync(config, "utf8")}augment:\n  enabled: true\n  dictionaries:\n${dictionaries.join("")}`);
		const plan = await transllm(["run", config, "--dry-run"]);
		expect(plan.stdout).toMatch(/^run\s+augment\s+never ran$/m);
		expect(plan.stdout).toMatch(/^up to date\s+pretraining/m);
		const on = await transllm(["run", config]);
		expect(on.code, on.stdout + on.stderr).toBe(0);
		expect(on.stdout).toMatch(/^✓ augment in .* th: pairs 48, augmented [1-9]\d*, replacedWords [1-9]/m);
		const augmented = lines(join(dir, "work", "augment", "th", "augmented.jsonl")).map((line) => JSON.parse(line) as { augmented: boolean; replacements: { lang: string }[] });
		expect(augmented.length).toBeGreaterThan(0);
		for (const pair of augmented) expect(pair.replacements.length).toBeGreaterThan(0);
		expect([...new Set(augmented.flatMap((pair) => pair.replacements.map((r) => r.lang)))]).toEqual(expect.arrayContaining(["fr", "de"]));
		// tcot reran on the added pairs: more translation pre-training records than without them.
		expect(on.stdout).toMatch(/^▶ tcot: /m);
		expect(lines(join(dir, "work", "tcot", "translation_pretraining.jsonl")).length).toBeGreaterThan(before);
	}, 120_000);
});
