import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InputError } from "@transllm/core";

/** The files of a model directory, as Optimum (`optimum-cli export onnx --task text-generation-with-past`) lays them out. */
export interface ModelFiles {
	dir: string;
	config: string;
	tokenizer: string;
	tokenizerConfig: string;
	/** `generation_config.json`, when present (its eos_token_id adds stop tokens). */
	generationConfig?: string;
	/** The decoder graph: `model.onnx` at the root, else `onnx/model.onnx` (the transformers.js layout). */
	onnx: string;
	/** `<onnx>_data`, when the weights are stored as ONNX external data. */
	externalData?: string;
}

async function isFile(path: string): Promise<boolean> {
	return stat(path).then(
		(s) => s.isFile(),
		() => false,
	);
}

/** The ONNX files a directory may hold, in the order they are preferred. */
const ONNX_CANDIDATES = ["model.onnx", "onnx/model.onnx", "decoder_model_merged.onnx", "onnx/decoder_model_merged.onnx"];

/**
 * Finds the files of a model directory; a missing file is an InputError naming the directory and what to
 * export, so a user sees at once whether the export or the path is wrong.
 */
export async function resolveModelFiles(dir: string): Promise<ModelFiles> {
	const root = resolve(dir);
	if (!(await stat(root).then((s) => s.isDirectory(), () => false))) {
		throw new InputError("model directory not found (expected a directory with config.json, tokenizer.json and model.onnx)", { file: root });
	}
	const required = async (name: string, hint: string): Promise<string> => {
		const path = join(root, name);
		if (!(await isFile(path))) throw new InputError(`missing ${name} (${hint})`, { file: root });
		return path;
	};
	const config = await required("config.json", "the Hugging Face model config");
	const tokenizer = await required("tokenizer.json", "a fast tokenizer file; save it with AutoTokenizer.save_pretrained");
	const tokenizerConfig = await required("tokenizer_config.json", "holds the special tokens and the chat template");
	let onnx: string | undefined;
	for (const candidate of ONNX_CANDIDATES) {
		if (await isFile(join(root, candidate))) {
			onnx = join(root, candidate);
			break;
		}
	}
	if (onnx === undefined) {
		throw new InputError(
			`no ONNX decoder found (looked for ${ONNX_CANDIDATES.join(", ")}); export one with \`optimum-cli export onnx --task text-generation-with-past\``,
			{ file: root },
		);
	}
	const files: ModelFiles = { dir: root, config, tokenizer, tokenizerConfig, onnx };
	if (await isFile(`${onnx}_data`)) files.externalData = `${onnx}_data`;
	if (await isFile(join(root, "generation_config.json"))) files.generationConfig = join(root, "generation_config.json");
	return files;
}
