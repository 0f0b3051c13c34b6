// Regression test (issue 12): an extended Llama-2 tokenizer must tokenize in transformers — what training uses — exactly
// as tokenizer.json does in @huggingface/tokenizers — what the runtime uses. With Llama-2's `tokenizer_class:
// LlamaTokenizer` transformers 5 rebuilds the pipeline from the vocabulary and drops tokenizer.json's normalizer.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pythonRef } from "@transllm/python-ref";
import { Tokenizer } from "@huggingface/tokenizers";
import { beforeAll, describe, expect, it } from "vitest";
import { loadBaseTokenizer } from "../src/base-tokenizer.js";
import { buildExtendedTokenizer, learnExtension } from "../src/extend-tokenizer.js";
import { checkExtension } from "../src/extension-checks.js";
import { udhrLines } from "../src/regression-corpus.js";
import { transllmSpecialTokens } from "../src/special-tokens.js";
import { writeExtension } from "../src/write-extension.js";
import { llama2FullDir } from "./fixtures.js";

const { ref, reason } = pythonRef(["transformers", "tokenizers"]);
if (!ref) console.warn(`transformers agreement: skipped — ${reason}`);

const LINES = [
	"<EN> Where is the capital of Thailand? <RESPONSE> The capital of Thailand is Bangkok. <TH> เมืองหลวงของประเทศไทยคือกรุงเทพมหานคร",
	"<TH> ทุกคนมีสิทธิในการดำรงชีวิต เสรีภาพ และความมั่นคงแห่งตัวตน",
	"[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nเมืองหลวงของประเทศไทยอยู่ที่ไหน [/INST]",
	"[INST] What is 2 + 2? [/INST] 4 </s><s>[INST] และ 3 + 3 ล่ะ [/INST]",
	"def area(r):\n    return 3.14159 * r * r\n\n        nested = {'a': [1, 2]}",
	"\tif (x) {\n\t\treturn  y;   // two spaces\n\t}",
];

describe.skipIf(!ref)("extended Llama-2 tokenizer: transformers (training) vs tokenizer.json (runtime)", () => {
	let dir: string;
	beforeAll(async () => {
		const base = await loadBaseTokenizer(await llama2FullDir());
		const training = await udhrLines("tha");
		const plan = await learnExtension({ base, lines: training, lang: "th", newTokens: 300 });
		const extended = buildExtendedTokenizer(base, plan, { specialTokens: transllmSpecialTokens("th") });
		const report = await checkExtension({ base, plan, extended, regression: await udhrLines("eng"), training });
		dir = await mkdtemp(join(tmpdir(), "transllm-tokenizer-agreement-"));
		await writeExtension({ outDir: dir, base, plan, extended, report });
	}, 120_000);

	const transformersIds = (model: string): number[][] =>
		JSON.parse(
			ref?.run(["-c", "import json,sys\nfrom transformers import AutoTokenizer\nt=AutoTokenizer.from_pretrained(sys.argv[1])\nprint(json.dumps([t(x)['input_ids'] for x in json.loads(sys.stdin.read())]))", model], { input: JSON.stringify(LINES) }).stdout.trim().split("\n").at(-1) ?? "[]",
		) as number[][];

	it("should give transformers the same ids as the runtime on TCOT lines, [INST] prompts and indented code", async () => {
		const config = JSON.parse(await readFile(join(dir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
		expect(config.tokenizer_class).toBe("PreTrainedTokenizerFast");
		const runtime = new Tokenizer(JSON.parse(await readFile(join(dir, "tokenizer.json"), "utf8")) as Record<string, unknown>, config);
		expect(transformersIds(dir)).toEqual(LINES.map((line) => runtime.encode(line).ids));
	});

	it("would not with the old tokenizer_class LlamaTokenizer (the defect this guards against)", async () => {
		const config = JSON.parse(await readFile(join(dir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
		const runtime = new Tokenizer(JSON.parse(await readFile(join(dir, "tokenizer.json"), "utf8")) as Record<string, unknown>, config);
		await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ ...config, tokenizer_class: "LlamaTokenizer" }));
		const old = transformersIds(dir);
		expect(LINES.filter((line, i) => JSON.stringify(old[i]) !== JSON.stringify(runtime.encode(line).ids)).length).toBeGreaterThan(0);
	});
});
