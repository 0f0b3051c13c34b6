// Secrets come only from the environment, named in the config by variable name: KD generation and translation
// against a real OpenAI-compatible server on loopback that demands the key (recovery-kd's server over a tiny Llama
// ONNX fixture). The key works, and it is nowhere in the work dir (lock file, logs, report, outputs) or the output.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLocalModel, startOpenAiCompatibleServer } from "@transllm/recovery-kd";
import type { OpenAiCompatibleServer } from "@transllm/recovery-kd";
import { buildLlamaFixture } from "@transllm/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root, transllm } from "./pipeline-fixture.js";

const secret = `sk-transllm-${randomBytes(12).toString("hex")}`;
const wrong = `sk-wrong-${randomBytes(12).toString("hex")}`;

function filesUnder(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? filesUnder(path) : [path];
	});
}

describe("secrets", () => {
	const dir = mkdtempSync(join(tmpdir(), "transllm-secrets-"));
	let server: OpenAiCompatibleServer;
	let dispose: () => Promise<void>;
	let config: string;

	beforeAll(async () => {
		await buildLlamaFixture({ dir: join(dir, "model"), layers: 2, hidden: 32, heads: 2, kvHeads: 1, intermediate: 64, seed: "secrets" });
		const loaded = await loadLocalModel(join(dir, "model"), { executionProvider: "cpu" });
		dispose = loaded.dispose;
		server = await startOpenAiCompatibleServer({ model: loaded.model, modelName: "tiny", apiKey: secret, host: "127.0.0.1", port: 0 });
		copyFileSync(join(root, "examples", "quickstart", "data", "queries.en.jsonl"), join(dir, "queries.en.jsonl"));
		writeFileSync(join(dir, "corpus.th.jsonl"), "");
		config = join(dir, "transllm.yaml");
		const backend = `backend: endpoint\n    endpoint: ${server.baseUrl}\n    model_name: tiny\n    api_key_env: TRANSLLM_TEST_KEY`;
		writeFileSync(
			config,
			`languages:\n  th:\n    corpus: [corpus.th.jsonl]\nbase_model:\n  model: model\nkd:\n  queries: queries.en.jsonl\n  max_tokens: 8\n  generation:\n    ${backend}\n  translation:\n    ${backend}\n    max_tokens: 8\n`,
		);
	}, 120_000);
	afterAll(async () => {
		await server?.close();
		await dispose?.();
	});

	const only = ["--only", "kd-generate,kd-translate"];

	it("are read from the variable the config names: unset is a pre-flight error, a wrong key fails the stage", async () => {
		const unset = await transllm(["run", config, ...only], { env: { TRANSLLM_TEST_KEY: "" } });
		expect(unset.code).toBe(2);
		expect(unset.stderr).toContain("kd.generation.api_key_env names TRANSLLM_TEST_KEY, which is not set in the environment");
		const refused = await transllm(["run", config, ...only], { env: { TRANSLLM_TEST_KEY: wrong } });
		expect(refused.code).toBe(1);
		expect(refused.stdout).toMatch(/✗ kd-generate failed: .*401/);
		expect(refused.stdout + refused.stderr).not.toContain(wrong);
	});

	it("work, and never reach the lock file, logs, report or outputs", async () => {
		const run = await transllm(["run", config, ...only], { env: { TRANSLLM_TEST_KEY: secret } });
		expect(run.code, run.stdout + run.stderr).toBe(0);
		expect(run.stdout).toMatch(/^✓ kd-generate .* records 4/m);
		expect(run.stdout).toMatch(/^✓ kd-translate /m);
		const files = filesUnder(join(dir, "work"));
		expect(files.map((file) => file.slice(dir.length + 1))).toEqual(expect.arrayContaining(["work/transllm.lock.json", "work/report.json", "work/report.html", "work/logs/kd-generate.log", "work/kd-generate/kd.en.jsonl", "work/kd-translate/th.jsonl"]));
		for (const file of files) {
			const bytes = readFileSync(file);
			expect(bytes.includes(secret), file).toBe(false);
			expect(bytes.includes(wrong), file).toBe(false);
		}
		expect(run.stdout + run.stderr).not.toContain(secret);
	});
});
