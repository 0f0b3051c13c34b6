import { ConfigError } from "@transllm/core";
import fieldList from "./llamafactory-fields.json";

/**
 * The keys LLaMA-Factory's HfArgumentParser accepts, read from its hparams dataclasses (and transformers'
 * Seq2SeqTrainingArguments) by `scripts/update-llamafactory-fields.py`. `source` names the commit.
 */
export interface LlamaFactoryFieldList {
	source: { repository: string; commit: string; date: string; files: string[]; transformers: string };
	/** Argument groups of `llamafactory-cli train` (parser.py `_TRAIN_ARGS`). */
	train: string[];
	/** Argument groups of `llamafactory-cli export` (parser.py `_INFER_ARGS`). */
	export: string[];
	groups: Record<string, string[]>;
}

export const LLAMAFACTORY_FIELDS = fieldList as LlamaFactoryFieldList;

/** What a LLaMA-Factory command parses: `train` (training YAML) or `export` (the merge YAML). */
export type LlamaFactoryCommand = "train" | "export";

/** The keys of `config` that `llamafactory-cli <command>` would reject ("Some keys are not used by the HfArgumentParser"). */
export function unknownLlamaFactoryKeys(config: Record<string, unknown>, command: LlamaFactoryCommand): string[] {
	const accepted = new Set(LLAMAFACTORY_FIELDS[command].flatMap((group) => LLAMAFACTORY_FIELDS.groups[group] ?? []));
	return Object.keys(config).filter((key) => !accepted.has(key));
}

/** Throws, naming the file and the keys, when `config` holds a key LLaMA-Factory's parser would reject. */
export function assertLlamaFactoryKeys(config: Record<string, unknown>, command: LlamaFactoryCommand, file: string): void {
	const unknown = unknownLlamaFactoryKeys(config, command);
	if (unknown.length > 0) {
		const { commit, date } = LLAMAFACTORY_FIELDS.source;
		throw new ConfigError(`${file}: LLaMA-Factory (${commit.slice(0, 12)}, ${date.slice(0, 10)}) \`llamafactory-cli ${command}\` does not accept ${unknown.map((k) => `"${k}"`).join(", ")}`);
	}
}
