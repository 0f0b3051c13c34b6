import { readFile } from "node:fs/promises";
import { writeJsonAtomic } from "./atomic-write.js";
import { ConfigError, excerpt } from "./errors.js";

/** The settings that decide a resumable run's output: JSON values, recorded when the run starts. */
export type RunSettings = Record<string, unknown>;

/** One setting whose value differs between the run being resumed and this one (dotted path for nested ones). */
export interface SettingChange {
	setting: string;
	previous: unknown;
	current: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Settings as written to disk and read back (undefined fields dropped), so that a fresh value compares to a stored one. */
function normalize(value: unknown): unknown {
	return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

function collectChanges(previous: unknown, current: unknown, path: string, out: SettingChange[]): void {
	if (Array.isArray(previous) && Array.isArray(current) && previous.length === current.length) {
		previous.forEach((item, index) => collectChanges(item, current[index], `${path}[${index}]`, out));
	} else if (isObject(previous) && isObject(current)) {
		for (const key of new Set([...Object.keys(previous), ...Object.keys(current)])) collectChanges(previous[key], current[key], path ? `${path}.${key}` : key, out);
	} else if (JSON.stringify(previous) !== JSON.stringify(current)) {
		out.push({ setting: path, previous, current });
	}
}

/** The settings that differ, nested objects compared field by field; `ignore` names top-level settings free to change. */
export function settingChanges(previous: object, current: object, ignore: readonly string[] = []): SettingChange[] {
	const changes: SettingChange[] = [];
	collectChanges(normalize(previous), normalize(current), "", changes);
	return changes.filter((change) => !ignore.includes(change.setting.split(/[.[]/)[0] as string));
}

const shown = (value: unknown): string => (value === undefined ? "(unset)" : excerpt(JSON.stringify(value), 80));

/** `lang "th" → "ar", temperature 0 → 0.7` */
export function formatSettingChanges(changes: readonly SettingChange[]): string {
	return changes.map((change) => `${change.setting} ${shown(change.previous)} → ${shown(change.current)}`).join(", ");
}

export interface ResumeSettingsOptions {
	/** What is being resumed, for the message: an output file or folder. */
	output: string;
	/** Top-level settings that may change between runs (concurrency, limits that only extend the run …). */
	ignore?: readonly string[];
}

/**
 * Refuses to resume a run with other settings than it started with: continuing would mix two configurations in one
 * output. The message names every changed setting with its old and new value.
 */
export function assertSameSettings(previous: object | undefined, current: object, options: ResumeSettingsOptions): void {
	if (previous === undefined) return;
	const changes = settingChanges(previous, current, options.ignore);
	if (changes.length > 0) {
		throw new ConfigError(
			`cannot resume ${options.output} with other settings than it was started with: ${formatSettingChanges(changes)}; resume with the same settings, or start over with --force`,
		);
	}
}

/** Reads settings recorded by `recordRunSettings` (undefined when there are none or the file is unreadable). */
export async function readRunSettings(path: string): Promise<RunSettings | undefined> {
	try {
		const value = JSON.parse(await readFile(path, "utf8")) as unknown;
		return isObject(value) ? value : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The one resume check of every resumable command: with `resume`, the settings recorded at `path` by the run
 * being resumed must equal `current` (see `assertSameSettings`); then `current` is recorded at `path` atomically.
 */
export async function recordRunSettings(path: string, current: object, options: ResumeSettingsOptions & { resume?: boolean }): Promise<void> {
	if (options.resume) assertSameSettings(await readRunSettings(path), current, options);
	await writeJsonAtomic(path, current);
}
