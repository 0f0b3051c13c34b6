import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic, byteLevelText } from "@transllm/core";
import type { BaseTokenizer } from "./base-tokenizer.js";
import type { CheckReport } from "./extension-checks.js";
import type { ExtendedTokenizer, ExtensionPlan } from "./extend-tokenizer.js";
import { writeSentencePieceModel } from "./sentencepiece-model.js";

/** One row of id-map.json: a new token and its decomposition under the old tokenizer. */
export interface IdMapEntry {
	token: string;
	/** The token as text (byte-level characters decoded, ▁ shown as a space). */
	text: string;
	id: number;
	baseTokens: string[];
	baseIds: number[];
	special?: boolean;
}

const tokenText = (family: ExtendedTokenizer["family"], token: string): string => (family === "byte-level-bpe" ? byteLevelText(token) : token.replace(/▁/g, " "));

/** The id map: every new token with its base decomposition (what mean/EEVE embedding initialisation uses). */
export function buildIdMap(extended: ExtendedTokenizer): { baseVocabSize: number; vocabSize: number; tokens: IdMapEntry[] } {
	return {
		baseVocabSize: extended.baseVocabSize,
		vocabSize: extended.vocabSize,
		tokens: [
			...extended.newTokens.map((t) => ({ token: t.token, text: tokenText(extended.family, t.token), id: t.id, baseTokens: t.baseTokens, baseIds: t.baseIds })),
			...extended.specialTokens.filter((t) => t.id >= extended.baseVocabSize).map((t) => ({ token: t.token, text: t.token, id: t.id, baseTokens: [], baseIds: [], special: true })),
		],
	};
}

/**
 * The LLaMA-Factory settings the extended model needs: the new embedding rows must be trained, so
 * `additional_target: embed_tokens,lm_head` (TransLLM trains them with LoRA in every stage,
 * `../shared/papers/000_1ce36f3811662daf.txt` App. A.1), and the special tokens.
 */
export function llamaFactorySettings(params: { modelDir: string; specialTokens: readonly string[]; embeddingsResized: boolean }): string {
	return [
		"# LLaMA-Factory settings for the vocabulary-extended model (written by transllm tokenizer extend).",
		"# Merge these keys into your training YAML.",
		`model_name_or_path: ${params.modelDir}`,
		"additional_target: embed_tokens,lm_head",
		...(params.specialTokens.length > 0 ? [`add_special_tokens: ${params.specialTokens.join(",")}`] : []),
		params.embeddingsResized
			? "resize_vocab: false  # the checkpoint's embeddings already have the extended vocabulary's rows"
			: "resize_vocab: true  # run `transllm tokenizer resize-embeddings` first to control the new rows' initialisation",
		"",
	].join("\n");
}

// ONNX external data (model.onnx_data, model.onnx.data) is weights too: a stale copy for the old vocabulary must not land in the output.
const WEIGHT_FILE = /\.(safetensors|bin|pt|pth|ckpt|gguf|onnx|onnx_data|onnx\.data|msgpack|h5|npz)$|\.index\.json$/;
const WRITTEN = new Set(["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "id-map.json", "llamafactory.yaml", "extension-report.json"]);

/**
 * Writes the extended tokenizer directory: tokenizer.json, tokenizer.model (when the base has one),
 * tokenizer_config.json, id-map.json, llamafactory.yaml and extension-report.json, each atomically, plus the
 * base directory's other small files (special_tokens_map.json, config.json, ...) copied unchanged. Weights are
 * not copied: `resize-embeddings` writes them.
 */
export async function writeExtension(params: { outDir: string; base: BaseTokenizer; plan: ExtensionPlan; extended: ExtendedTokenizer; report: CheckReport; embeddingsResized?: boolean }): Promise<string[]> {
	const { outDir, base, extended, plan } = params;
	// Every file is independent: written at once, so that their fsyncs overlap.
	const writes = new Map<string, () => Promise<void>>();
	for (const entry of await readdir(base.dir, { withFileTypes: true })) {
		if (!entry.isFile() || WRITTEN.has(entry.name) || WEIGHT_FILE.test(entry.name)) continue;
		const source = join(base.dir, entry.name);
		if ((await stat(source)).size > 16 * 1024 * 1024) continue;
		writes.set(entry.name, async () => writeFileAtomic(join(outDir, entry.name), await readFile(source)));
	}
	writes.set("tokenizer.json", () => writeJsonAtomic(join(outDir, "tokenizer.json"), extended.tokenizerJson));
	const { sentencePiece, tokenizerConfig } = extended;
	if (sentencePiece) writes.set("tokenizer.model", () => writeFileAtomic(join(outDir, "tokenizer.model"), writeSentencePieceModel(sentencePiece)));
	if (tokenizerConfig) writes.set("tokenizer_config.json", () => writeJsonAtomic(join(outDir, "tokenizer_config.json"), tokenizerConfig));
	writes.set("id-map.json", () => writeJsonAtomic(join(outDir, "id-map.json"), buildIdMap(extended)));
	writes.set("llamafactory.yaml", () =>
		writeFileAtomic(
			join(outDir, "llamafactory.yaml"),
			llamaFactorySettings({ modelDir: outDir, specialTokens: extended.specialTokens.map((t) => t.token), embeddingsResized: params.embeddingsResized ?? false }),
		),
	);
	writes.set("extension-report.json", () =>
		writeJsonAtomic(join(outDir, "extension-report.json"), {
			base: base.dir,
			family: plan.family,
			lang: plan.lang,
			requested: plan.requested,
			added: extended.newTokens.length,
			addedCharacters: extended.newTokens.filter((t) => !t.merge).length,
			shortfall: plan.shortfall,
			patchPreTokenizer: plan.patchPreTokenizer,
			baseVocabSize: extended.baseVocabSize,
			vocabSize: extended.vocabSize,
			specialTokens: extended.specialTokens,
			corpusLines: plan.corpusLines,
			checks: params.report.checks,
		}),
	);
	await Promise.all([...writes.values()].map((write) => write()));
	return [...writes.keys()];
}
