import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError } from "@transllm/core";
import { Ajv } from "ajv";
import type { ErrorObject } from "ajv";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import type { Document, Node } from "yaml";
import type { PipelineConfig } from "./config.js";
import { configSchema } from "./config-schema.js";

/** One problem of a config file: the key path, the line in the file and what is wrong. */
export interface ConfigProblem {
	path: string;
	line: number;
	message: string;
}

/** A config file that does not parse or validate: every problem, each with its key path and line. */
export class ConfigFileError extends ConfigError {
	readonly file: string;
	readonly problems: ConfigProblem[];
	constructor(file: string, problems: ConfigProblem[]) {
		super(`${file}: ${problems.length === 1 ? "1 problem" : `${problems.length} problems`}\n${problems.map((p) => `  ${file}:${p.line} ${p.path}: ${p.message}`).join("\n")}`);
		this.name = "ConfigFileError";
		this.file = file;
		this.problems = problems;
	}
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
// `format: uri` without ajv-formats: a URL that WHATWG's parser accepts.
ajv.addFormat("uri", (value: string) => URL.canParse(value));
const validate = ajv.compile(configSchema);

/** The keys of a JSON pointer (`/languages/th/corpus/0` → languages, th, corpus, 0). */
function pointerKeys(pointer: string): string[] {
	return pointer === "" ? [] : pointer.slice(1).split("/").map((key) => key.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The line of the deepest node on `keys` that exists (a missing key: its parent's line). */
function lineOf(doc: Document, keys: string[], counter: LineCounter, key?: string): number {
	let node: unknown = doc.contents;
	let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
	for (const k of keys) {
		const child = (node as { get?: (k: unknown, keep: boolean) => unknown })?.get?.(/^\d+$/.test(k) && !isMap(node) ? Number(k) : k, true);
		if (child === undefined) break;
		node = child;
		offset = (child as Node).range?.[0] ?? offset;
	}
	if (key !== undefined && isMap(node)) {
		const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
		if (pair && isScalar(pair.key)) offset = pair.key.range?.[0] ?? offset;
	}
	return counter.linePos(offset).line;
}

function describe(error: ErrorObject): { keys: string[]; key?: string; message: string } {
	const keys = pointerKeys(error.instancePath);
	switch (error.keyword) {
		case "additionalProperties": {
			const key = String(error.params.additionalProperty);
			return { keys: [...keys, key], key, message: `unknown key "${key}"` };
		}
		case "required": {
			const key = String(error.params.missingProperty);
			return { keys, message: `missing required key "${key}"` };
		}
		case "enum":
			return { keys, message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
		case "propertyNames": {
			const key = String(error.params.propertyName);
			return { keys: [...keys, key], key, message: `"${key}" is not a language code (th, ar, pt-BR …)` };
		}
		default:
			return { keys, message: error.message ?? error.keyword };
	}
}

function pathText(keys: string[]): string {
	return keys.length === 0 ? "(top level)" : keys.map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join("").replace(/^\./, "");
}

/** Makes every path of the config absolute (relative paths are relative to the config file's folder). */
function resolvePaths(config: PipelineConfig, base: string): void {
	const at = (path: string): string => (isAbsolute(path) ? path : resolve(base, path));
	config.workdir = at(config.workdir);
	const model = config.base_model;
	model.model = at(model.model);
	if (model.tokenizer !== undefined) model.tokenizer = at(model.tokenizer);
	if (model.checkpoint !== undefined) model.checkpoint = at(model.checkpoint);
	for (const lang of Object.values(config.languages)) {
		lang.corpus = lang.corpus.map(at);
		lang.word_lists = lang.word_lists.map(at);
		lang.parallel = lang.parallel.map(at);
		lang.english = lang.english.map(at);
		lang.translated = lang.translated.map(at);
		if (lang.heldout !== undefined) lang.heldout = at(lang.heldout);
		if (lang.lexicon !== undefined) lang.lexicon = at(lang.lexicon);
	}
	if (config.kd) config.kd.queries = at(config.kd.queries);
	for (const dictionary of config.augment.dictionaries) dictionary.path = at(dictionary.path);
	if (config.export.checkpoint !== undefined) config.export.checkpoint = at(config.export.checkpoint);
	if (config.training.checkpoint !== undefined) config.training.checkpoint = at(config.training.checkpoint);
	// A bare name (python3) is looked up on the PATH; a path is relative to the config file like every other.
	if (config.training.python.includes("/")) config.training.python = at(config.training.python);
	if (config.eval.model !== undefined) config.eval.model = at(config.eval.model);
	for (const lang of Object.values(config.languages)) lang.questions = lang.questions.map(at);
}

/**
 * Parses and validates a config text: YAML (the `yaml` library, line positions kept) checked against the
 * JSON Schema with ajv. Every problem names its key path and line; unknown keys are errors.
 */
export function parseConfig(text: string, file: string): PipelineConfig {
	const counter = new LineCounter();
	const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
	if (doc.errors.length > 0) {
		throw new ConfigFileError(
			file,
			doc.errors.map((error) => ({ path: "(yaml)", line: counter.linePos(error.pos[0]).line, message: error.message.split("\n")[0] ?? error.message })),
		);
	}
	const data = doc.toJS() as unknown;
	if (!validate(data)) {
		const seen = new Set<string>();
		const problems: ConfigProblem[] = [];
		for (const error of validate.errors ?? []) {
			// `if`/`anyOf` wrappers repeat their branches' errors.
			if (error.keyword === "if" || (error.keyword === "pattern" && error.propertyName !== undefined)) continue;
			const { keys, key, message } = describe(error);
			const problem = { path: pathText(keys), line: lineOf(doc, key !== undefined ? keys.slice(0, -1) : keys, counter, key), message };
			const id = `${problem.path}|${problem.message}`;
			if (!seen.has(id)) problems.push(problem), seen.add(id);
		}
		throw new ConfigFileError(file, problems);
	}
	const config = data as PipelineConfig;
	config.file = resolve(file);
	resolvePaths(config, dirname(resolve(file)));
	return config;
}

/** Reads, parses and validates a `transllm.yaml`. */
export async function loadConfig(file: string): Promise<PipelineConfig> {
	let text: string;
	try {
		text = await readFile(file, "utf8");
	} catch (error) {
		throw new ConfigError(`cannot read the config ${file}: ${(error as Error).message}`);
	}
	return parseConfig(text, file);
}
