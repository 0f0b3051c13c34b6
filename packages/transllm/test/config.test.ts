import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigFileError, configSchema, initPipeline, initialConfig, loadConfig, parseConfig } from "../src/index.js";

const valid = `languages:
  th:
    corpus: [corpus.jsonl]
base_model:
  model: ./model
`;

function problems(text: string) {
	try {
		parseConfig(text, "/x/transllm.yaml");
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigFileError);
		return (error as ConfigFileError).problems;
	}
	throw new Error("the config was accepted");
}

describe("transllm.yaml", () => {
	it("fills the papers' defaults and makes paths absolute (relative to the file)", () => {
		const config = parseConfig(valid, "/x/run/transllm.yaml");
		expect(config.workdir).toBe("/x/run/work");
		expect(config.languages.th?.corpus).toEqual(["/x/run/corpus.jsonl"]);
		expect(config.base_model.model).toBe("/x/run/model");
		expect(config.executor).toMatchObject({ type: "local", workers: 2, world_size: 1 });
		expect(config.clean.dedup_threshold).toBe(0.8);
		expect(config.extend.new_tokens).toBe(40000);
	});

	it("names the key path and the line of an unknown key, a wrong type and a bad enum value", () => {
		const found = problems(`languages:
  th:
    corpus: [corpus.jsonl]
    corpsu_format: jsonl
base_model:
  model: ./model
executor:
  type: kubernetes
  workers: two
`);
		expect(found).toContainEqual({ path: "languages.th.corpsu_format", line: 4, message: 'unknown key "corpsu_format"' });
		expect(found).toContainEqual(expect.objectContaining({ path: "executor.type", line: 8, message: expect.stringContaining('"local", "slurm"') }));
		expect(found).toContainEqual(expect.objectContaining({ path: "executor.workers", line: 9, message: "must be integer" }));
	});

	it("reports a missing required key at its parent and a YAML syntax error at its line", () => {
		expect(problems("languages:\n  th:\n    corpus: [a]\nbase_model:\n  name: x\n")).toContainEqual({ path: "base_model", line: 5, message: 'missing required key "model"' });
		const syntax = problems("languages:\n  th: [\nbase_model: {}\n");
		expect(syntax[0]?.path).toBe("(yaml)");
		expect(syntax[0]?.line).toBeGreaterThanOrEqual(2);
		expect(problems(valid.replace("th:", "thai language:"))).toEqual([{ path: "languages.thai language", line: 2, message: '"thai language" is not a language code (th, ar, pt-BR …)' }]);
	});

	it("says which file and line in the error message", async () => {
		const dir = mkdtempSync(join(tmpdir(), "transllm-config-"));
		const file = join(dir, "transllm.yaml");
		await import("node:fs").then((fs) => fs.writeFileSync(file, `${valid}bogus: 1\n`));
		await expect(loadConfig(file)).rejects.toThrow(`${file}:6 bogus: unknown key "bogus"`);
	});

	it("init writes a config that validates, with a comment on every key", async () => {
		const dir = mkdtempSync(join(tmpdir(), "transllm-init-"));
		const file = await initPipeline({ langs: ["th", "ar"], baseModel: join(dir, "Llama-2-7b-chat-hf"), out: join(dir, "th-run") });
		const text = readFileSync(file, "utf8");
		const config = parseConfig(text, file);
		expect(Object.keys(config.languages)).toEqual(["th", "ar"]);
		expect(config.base_model.model).toBe(join(dir, "Llama-2-7b-chat-hf"));
		expect(config.kd?.limit).toBe(50000);
		for (const line of text.split("\n").filter((l) => /^\s*[a-z_]+:/.test(l) && !/^\s*(th|ar):$/.test(l))) expect(line).toMatch(/#/);
		expect(text).toContain("TransLLM Sec. 3.1");
		await expect(initPipeline({ langs: ["th"], baseModel: "m", out: join(dir, "th-run") })).rejects.toThrow(/exists/);
		expect(initialConfig({ langs: ["th"], baseModel: "m" })).toContain("api_key_env");
	});

	it("ships the schema as transllm/schema.json, identical to the exported object", () => {
		const shipped = JSON.parse(readFileSync(new URL("../schema.json", import.meta.url), "utf8")) as unknown;
		// Run `pnpm --filter transllm docs` after changing config-schema.ts.
		expect(shipped).toEqual(JSON.parse(JSON.stringify(configSchema)));
	});
});
