import { parseArgs } from "node:util";
import type { ParseArgsOptionDescriptor } from "node:util";
import { ConfigError, TransllmError } from "./errors.js";

/** One flag of a command. Every flag is documented: help is generated from this table. */
export interface CliOption {
	type: "string" | "boolean";
	description: string;
	short?: string;
	default?: string | boolean;
	multiple?: boolean;
	required?: boolean;
	/** Placeholder shown in help (`<file>`). */
	valueName?: string;
}

export interface CliPositional {
	name: string;
	description: string;
	required?: boolean;
	variadic?: boolean;
}

export type CliValues = Record<string, string | boolean | string[] | undefined>;

export interface CliContext {
	stdout: NodeJS.WritableStream;
	stderr: NodeJS.WritableStream;
}

/** A leaf command: flags, positionals and what it does. Returns an exit code (default 0). */
export interface CliCommand {
	description: string;
	options: Record<string, CliOption>;
	positionals?: readonly CliPositional[];
	/** Extra help text (examples, notes) printed after the flags. */
	details?: string;
	run(args: { values: CliValues; positionals: string[] }, context: CliContext): Promise<number | void>;
}

/** A group of subcommands (`transllm tcot …`). */
export interface CliGroup {
	description: string;
	subcommands: CommandTable;
}

/**
 * A command or group whose code is imported only when it is run or its help is asked for, so that a CLI made of many
 * packages starts by loading one of them (the umbrella `transllm` would load every package for every command otherwise).
 */
export interface CliLazyEntry {
	description: string;
	load(): Promise<CliCommand | CliGroup>;
}

export type CommandTable = Record<string, CliCommand | CliGroup | CliLazyEntry>;

function isGroup(entry: CliCommand | CliGroup | CliLazyEntry): entry is CliGroup {
	return "subcommands" in entry;
}

function isLazy(entry: CliCommand | CliGroup | CliLazyEntry): entry is CliLazyEntry {
	return "load" in entry;
}

/** The table with every lazy entry loaded, at every depth (for help of every command, READMEs and tests). */
export async function loadCommandTable(table: CommandTable): Promise<Record<string, CliCommand | CliGroup>> {
	const loaded: Record<string, CliCommand | CliGroup> = {};
	for (const [name, entry] of Object.entries(table)) {
		const resolved = isLazy(entry) ? await entry.load() : entry;
		loaded[name] = isGroup(resolved) ? { description: resolved.description, subcommands: await loadCommandTable(resolved.subcommands) } : resolved;
	}
	return loaded;
}

function commandHelp(path: string, command: CliCommand): string {
	const positionals = (command.positionals ?? [])
		.map((p) => (p.required ? `<${p.name}${p.variadic ? "..." : ""}>` : `[${p.name}${p.variadic ? "..." : ""}]`))
		.join(" ");
	const lines = [`Usage: ${path}${positionals ? ` ${positionals}` : ""} [options]`, "", command.description, ""];
	if (command.positionals?.length) {
		lines.push("Arguments:");
		for (const p of command.positionals) lines.push(`  ${p.name.padEnd(28)} ${p.description}`);
		lines.push("");
	}
	lines.push("Options:");
	const entries = Object.entries(command.options);
	for (const [name, option] of entries) {
		const flag = `${option.short ? `-${option.short}, ` : ""}--${name}${option.type === "string" ? ` ${option.valueName ?? "<value>"}` : ""}`;
		const notes = [option.required ? "required" : undefined, option.default !== undefined ? `default: ${String(option.default)}` : undefined, option.multiple ? "repeatable" : undefined]
			.filter(Boolean)
			.join("; ");
		lines.push(`  ${flag.padEnd(28)} ${option.description}${notes ? ` (${notes})` : ""}`);
	}
	lines.push(`  ${"-h, --help".padEnd(28)} Show this help`);
	if (command.details) lines.push("", command.details);
	return `${lines.join("\n")}\n`;
}

function groupHelp(path: string, group: CliGroup | { description: string; subcommands: CommandTable }): string {
	const lines = [`Usage: ${path} <command> [options]`, "", group.description, "", "Commands:"];
	for (const [name, entry] of Object.entries(group.subcommands)) lines.push(`  ${name.padEnd(20)} ${entry.description}`);
	lines.push("", `Run '${path} <command> --help' for a command's options.`);
	return `${lines.join("\n")}\n`;
}

/** Generates the help text of a command path (for READMEs and tests). */
export function helpFor(program: string, table: CommandTable, path: readonly string[], description = ""): string {
	let group: { description: string; subcommands: CommandTable } = { description, subcommands: table };
	let prefix = program;
	for (const name of path) {
		const entry = group.subcommands[name];
		if (!entry) throw new ConfigError(`unknown command "${prefix} ${name}"`);
		if (isLazy(entry)) throw new ConfigError(`"${prefix} ${name}" is not loaded: pass the table through loadCommandTable first`);
		prefix = `${prefix} ${name}`;
		if (!isGroup(entry)) return commandHelp(prefix, entry);
		group = entry;
	}
	return groupHelp(prefix, group);
}

/**
 * Runs a declarative command table (the huggingface.js CLI pattern, with `node:util` parseArgs). Errors of
 * transllm print their message and code and exit 2 (bad input or options) or 1; help is generated.
 */
export async function runCli(
	program: string,
	table: CommandTable,
	argv: readonly string[],
	options: { description?: string; version?: string; context?: Partial<CliContext> } = {},
): Promise<number> {
	const context: CliContext = { stdout: options.context?.stdout ?? process.stdout, stderr: options.context?.stderr ?? process.stderr };
	let group: { description: string; subcommands: CommandTable } = { description: options.description ?? "", subcommands: table };
	let prefix = program;
	let rest = [...argv];
	for (;;) {
		const [name, ...tail] = rest;
		if (name === undefined || name === "--help" || name === "-h" || name === "help") {
			context.stdout.write(groupHelp(prefix, group));
			return name === undefined ? 1 : 0;
		}
		if ((name === "--version" || name === "-v") && prefix === program && options.version) {
			context.stdout.write(`${options.version}\n`);
			return 0;
		}
		const listed = group.subcommands[name];
		if (!listed) {
			context.stderr.write(`error: unknown command "${prefix} ${name}"\n\n${groupHelp(prefix, group)}`);
			return 2;
		}
		const entry = isLazy(listed) ? await listed.load() : listed;
		prefix = `${prefix} ${name}`;
		rest = tail;
		if (isGroup(entry)) {
			group = entry;
			continue;
		}
		if (rest.includes("--help") || rest.includes("-h")) {
			context.stdout.write(commandHelp(prefix, entry));
			return 0;
		}
		try {
			const parsed = parseArgs({
				args: rest,
				options: Object.fromEntries(
					Object.entries(entry.options).map(([key, option]) => {
						const spec: ParseArgsOptionDescriptor = { type: option.type };
						if (option.short !== undefined) spec.short = option.short;
						if (option.multiple !== undefined) spec.multiple = option.multiple;
						if (option.default !== undefined) spec.default = (option.multiple ? [option.default] : option.default) as ParseArgsOptionDescriptor["default"];
						return [key, spec];
					}),
				),
				allowPositionals: true,
				strict: true,
			});
			for (const [key, option] of Object.entries(entry.options)) {
				if (option.required && parsed.values[key] === undefined) throw new ConfigError(`missing required option --${key}`);
			}
			const required = (entry.positionals ?? []).filter((p) => p.required).length;
			if (parsed.positionals.length < required) {
				throw new ConfigError(`missing argument <${entry.positionals?.[parsed.positionals.length]?.name}>`);
			}
			const code = await entry.run({ values: parsed.values as CliValues, positionals: parsed.positionals }, context);
			return code ?? 0;
		} catch (error) {
			if (TransllmError.isInstance(error)) {
				context.stderr.write(`error [${error.code}]: ${error.message}\n`);
				if (error.code === "E_CONFIG") context.stderr.write(`\nRun '${prefix} --help' for usage.\n`);
				return error.code === "E_INPUT" || error.code === "E_CONFIG" || error.code === "E_UNKNOWN_LANGUAGE" ? 2 : 1;
			}
			if (error instanceof TypeError && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
				context.stderr.write(`error: ${error.message}\n\n${commandHelp(prefix, entry)}`);
				return 2;
			}
			throw error;
		}
	}
}

/** A string flag's value, or an error naming the flag. */
export function stringOption(values: CliValues, name: string): string {
	const value = values[name];
	if (typeof value !== "string" || value === "") throw new ConfigError(`--${name} is required`);
	return value;
}

/** An optional string flag. */
export function optionalString(values: CliValues, name: string): string | undefined {
	const value = values[name];
	return typeof value === "string" ? value : undefined;
}

/** `value` when it is one of `allowed`; otherwise an error naming the flag, the bad value and the choices. */
export function checkChoice<T extends string>(value: string, name: string, allowed: readonly T[]): T {
	if (!allowed.includes(value as T)) throw new ConfigError(`--${name} must be one of ${allowed.join(", ")}, got "${value}"`);
	return value as T;
}

/** A flag taking one of `allowed` values: its value (or `fallback` when unset), checked with checkChoice. */
export function choiceOption<T extends string>(values: CliValues, name: string, allowed: readonly T[]): T | undefined;
export function choiceOption<T extends string>(values: CliValues, name: string, allowed: readonly T[], fallback: T): T;
export function choiceOption<T extends string>(values: CliValues, name: string, allowed: readonly T[], fallback?: T): T | undefined {
	const raw = values[name];
	if (raw === undefined) return fallback;
	if (typeof raw !== "string") throw new ConfigError(`--${name} must be one of ${allowed.join(", ")}`);
	return checkChoice(raw, name, allowed);
}

/** A `--seed` value as the APIs take it: `--seed 42` is the number 42 (as `seed: 42`), anything else a string seed. */
export function seedValue(value: string): string | number {
	return /^\d+$/.test(value) ? Number(value) : value;
}

/** A numeric flag, checked: a clear error names the flag and the bad value. */
export function numberOption(values: CliValues, name: string, fallback: number, check?: { min?: number; max?: number; integer?: boolean }): number {
	const raw = values[name];
	if (raw === undefined) return fallback;
	const value = Number(raw);
	if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(value)) throw new ConfigError(`--${name} must be a number, got "${String(raw)}"`);
	if (check?.integer && !Number.isInteger(value)) throw new ConfigError(`--${name} must be an integer, got ${raw}`);
	if (check?.min !== undefined && value < check.min) throw new ConfigError(`--${name} must be ≥ ${check.min}, got ${raw}`);
	if (check?.max !== undefined && value > check.max) throw new ConfigError(`--${name} must be ≤ ${check.max}, got ${raw}`);
	return value;
}

/** A list of file paths from a repeatable flag: never split on commas, which paths may contain. */
export function fileListOption(values: CliValues, name: string): string[] {
	const raw = values[name];
	return (Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : []).filter((item) => item !== "");
}

/** A repeatable or comma-separated list flag (codes, numbers, names — for paths use fileListOption). */
export function listOption(values: CliValues, name: string): string[] {
	const raw = values[name];
	const items = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
	return items.flatMap((item) => item.split(",")).map((item) => item.trim()).filter(Boolean);
}
