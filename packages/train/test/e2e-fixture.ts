// The tiny model the training tests train: the runtime's Llama fixture, its tokenizer extended for Thai with the
// TCOT special tokens by @transllm/tokenizer and its embeddings resized (padded to 64 rows) — the path a user's
// checkpoint takes before `transllm train plan`.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLlamaFixture } from "@transllm/runtime";
import { buildTrainingFiles, tcotSpecialTokens } from "@transllm/tcot";
import type { BuildTrainingFilesOptions } from "@transllm/tcot";
import { buildExtendedTokenizer, checkExtension, learnExtension, loadBaseTokenizer, resizeEmbeddings, writeExtension } from "@transllm/tokenizer";

export const DEMO_DATA = fileURLToPath(new URL("../../../examples/quickstart/data/", import.meta.url));

export async function demoLines(file: string, field: string): Promise<string[]> {
	return (await readFile(join(DEMO_DATA, file), "utf8"))
		.split("\n")
		.filter(Boolean)
		.map((line) => String((JSON.parse(line) as Record<string, unknown>)[field]));
}

export interface ExtendedFixture {
	/** The fixture before extension (the runtime's tiny Llama). */
	base: string;
	/** The extended, resized checkpoint that training starts from. */
	model: string;
	baseVocabSize: number;
	vocabSize: number;
	rows: number;
}

export async function buildExtendedFixture(dir: string): Promise<ExtendedFixture> {
	const base = join(dir, "fixture");
	const model = join(dir, "extended");
	await buildLlamaFixture({ dir: base, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 7 });
	const tokenizer = await loadBaseTokenizer(base);
	const thai = [...(await demoLines("corpus.th.jsonl", "text")), ...(await demoLines("kd.translated.th.jsonl", "response_t")), ...(await demoLines("kd.translated.th.jsonl", "query_t"))];
	const plan = await learnExtension({ base: tokenizer, lines: thai, lang: "th", newTokens: 120 });
	const extended = buildExtendedTokenizer(tokenizer, plan, { specialTokens: tcotSpecialTokens(["th"]) });
	const report = await checkExtension({ base: tokenizer, plan, extended, regression: await demoLines("english.jsonl", "text"), training: thai });
	if (!report.ok) throw new Error(`extension checks failed: ${JSON.stringify(report.checks)}`);
	await mkdir(model, { recursive: true });
	await writeExtension({ outDir: model, base: tokenizer, plan, extended, report, embeddingsResized: true });
	const resized = await resizeEmbeddings({
		checkpoint: base,
		outDir: model,
		vocabSize: extended.vocabSize,
		tokens: [...extended.newTokens, ...extended.specialTokens.map((t) => ({ id: t.id, baseIds: [] as number[] }))].filter((t) => t.id >= extended.baseVocabSize),
		init: "mean",
		padToMultipleOf: 64,
		seed: 1,
		progress: { silent: true },
	});
	return { base, model, baseVocabSize: extended.baseVocabSize, vocabSize: extended.vocabSize, rows: resized.newVocabSize };
}

/** The transfer data of the demo (translated KD, parallel pairs, English lines) built with tcot into `<dir>/tcot`. */
export async function buildDemoTcot(dir: string, options: Partial<BuildTrainingFilesOptions> = {}): Promise<Record<string, string>> {
	const built = await buildTrainingFiles({
		translated: [join(DEMO_DATA, "kd.translated.th.jsonl")],
		parallel: [join(DEMO_DATA, "parallel.en-th.jsonl")],
		english: [join(DEMO_DATA, "english.jsonl")],
		outDir: join(dir, "tcot"),
		format: "llamafactory",
		validationSize: 10,
		progress: null,
		...options,
	});
	return built.files;
}

/** Two CLO preference pairs in LLaMA-Factory's pairwise layout, at `<dir>/pairs.jsonl`. */
export async function writeDemoCloPairs(dir: string): Promise<string> {
	const file = join(dir, "pairs.jsonl");
	await writeFile(file, `${JSON.stringify({ instruction: "Where?", input: "", chosen: "Here.", rejected: "ที่นี่" })}\n${JSON.stringify({ instruction: "ที่ไหน", input: "", chosen: "ที่นี่", rejected: "Here." })}\n`);
	return file;
}
