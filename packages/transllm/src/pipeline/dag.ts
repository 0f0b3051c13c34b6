import { ConfigError } from "@transllm/core";
import type { PipelineConfig } from "./config.js";
import type { Stage } from "./stage.js";

/** The enabled stages' upstream stages: a disabled stage is skipped over (its own upstream stages count instead). */
export function dependencies(stages: readonly Stage[], config: PipelineConfig): Map<string, string[]> {
	const byName = new Map(stages.map((stage) => [stage.name, stage]));
	const deps = new Map<string, string[]>();
	const resolveDeps = (name: string): string[] => {
		const stage = byName.get(name);
		if (!stage) return [];
		return stage.after.flatMap((up) => {
			const upstream = byName.get(up);
			if (!upstream) return [];
			return upstream.disabled(config) === undefined ? [up] : resolveDeps(up);
		});
	};
	for (const stage of stages) deps.set(stage.name, [...new Set(resolveDeps(stage.name))]);
	return deps;
}

/** Stages downstream of `name` (transitively), `name` excluded. */
export function downstreamOf(name: string, deps: Map<string, string[]>): Set<string> {
	const out = new Set<string>();
	let grew = true;
	while (grew) {
		grew = false;
		for (const [stage, ups] of deps) {
			if (!out.has(stage) && ups.some((up) => up === name || out.has(up))) out.add(stage), (grew = true);
		}
	}
	return out;
}

export interface Selection {
	only?: string[];
	from?: string;
	to?: string;
	force?: string[];
}

/** The stages a run considers, from --only / --from / --to (names checked, with the known names in the error). */
export function selectStages(stages: readonly Stage[], selection: Selection): Set<string> {
	const names = stages.map((stage) => stage.name);
	const known = (name: string, flag: string): number => {
		const index = names.indexOf(name);
		if (index === -1) throw new ConfigError(`${flag} ${name}: no such stage; stages: ${names.join(", ")}`);
		return index;
	};
	for (const name of selection.force ?? []) if (name !== "all") known(name, "--force");
	if (selection.only?.length) {
		if (selection.from || selection.to) throw new ConfigError("--only does not go with --from/--to");
		return new Set(selection.only.map((name) => names[known(name, "--only")] as string));
	}
	const from = selection.from ? known(selection.from, "--from") : 0;
	const to = selection.to ? known(selection.to, "--to") : names.length - 1;
	if (from > to) throw new ConfigError(`--from ${selection.from} comes after --to ${selection.to}`);
	return new Set(names.slice(from, to + 1));
}
