import { access } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { ConfigError, getLanguage, writeFileAtomic } from "@transllm/core";
import { configSchema } from "./config-schema.js";
import type { SchemaNode } from "./schema-walk.js";

const scalar = (value: unknown): string => JSON.stringify(value);

function emit(node: SchemaNode, value: Record<string, unknown>, indent: string, out: string[]): void {
	for (const [key, child] of Object.entries(node.properties ?? {})) {
		const given = value[key];
		const comment = child.description ? `  # ${child.description}` : "";
		const isMapOfLanguages = child.additionalProperties && typeof child.additionalProperties === "object" && !child.properties;
		if (child.properties || isMapOfLanguages) {
			out.push(`${indent}${key}:${comment}`);
			if (isMapOfLanguages) {
				for (const [lang, inner] of Object.entries((given ?? {}) as Record<string, Record<string, unknown>>)) {
					out.push(`${indent}  ${lang}:`);
					emit(child.additionalProperties as SchemaNode, inner, `${indent}    `, out);
				}
			} else emit(child, (given ?? {}) as Record<string, unknown>, `${indent}  `, out);
			continue;
		}
		const shown = given !== undefined ? given : child.default;
		if (shown === undefined) out.push(`${indent}# ${key}:${comment}`);
		else out.push(`${indent}${key}: ${scalar(shown)}${comment}`);
	}
}

/** The text of a new transllm.yaml: every key with the papers' default and a comment citing where it comes from. */
export function initialConfig(params: { langs: readonly string[]; baseModel: string }): string {
	const value = {
		version: 1,
		languages: Object.fromEntries(
			params.langs.map((lang) => [lang, { corpus: [`data/corpus.${lang}.jsonl.gz`], word_lists: [`data/sensitive-words.${lang}.txt`], parallel: [`data/parallel.en-${lang}.jsonl`], english: ["data/english.jsonl"], translated: [] }]),
		),
		base_model: { model: params.baseModel },
		kd: { queries: "data/alpaca-50k.en.jsonl", limit: 50000 },
	};
	const out = [
		"# transllm run <this file>: the TransLLM pipeline (TransLLM, LLaMAX, PROM, CLO) from raw corpora to training data.",
		"# Paths are relative to this file. Keys are checked against transllm's JSON Schema (transllm/schema.json): a",
		"# misspelt key is an error. API keys never go here: name the environment variable (api_key_env).",
	];
	emit(configSchema as unknown as SchemaNode, value, "", out);
	return `${out.join("\n")}\n`;
}

/** `transllm init`: writes <out>/transllm.yaml (refuses to overwrite one). Returns its path. */
export async function initPipeline(params: { langs: readonly string[]; baseModel: string; out: string; force?: boolean }): Promise<string> {
	if (params.langs.length === 0) throw new ConfigError("--lang is required (th, or several: th,ar)");
	for (const lang of params.langs) getLanguage(lang);
	const file = join(params.out, "transllm.yaml");
	if (!params.force && (await access(file).then(() => true, () => false))) throw new ConfigError(`${file} exists; edit it, or pass --force to overwrite it`);
	const baseModel = relative(resolve(params.out), resolve(params.baseModel)) || ".";
	await writeFileAtomic(file, initialConfig({ langs: params.langs, baseModel }));
	return file;
}
