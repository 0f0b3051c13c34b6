import { ConfigError, getLanguage, scriptPattern, scriptRatio } from "@transllm/core";
import type { Filter, FilterVerdict } from "./filter.js";
import type { FilterSpec } from "./filter-spec.js";
import { drop } from "./filter.js";

export interface ScriptRatioFilterParams {
	/** The language whose script letters must make up `minRatio` of all letters (or give `script`). */
	lang?: string;
	/** ISO 15924 script code (`Thai`, `Arab`); default: the script of `lang`. */
	script?: string;
	/** Minimum share of letters in the script (default 0.5). */
	minRatio?: number;
	name?: string;
}

/** Drops documents whose letters are mostly not in the expected script (`script_ratio`): mis-tagged or boilerplate text. */
export class ScriptRatioFilter implements Filter<{ text: string }> {
	readonly name: string;
	readonly #params: ScriptRatioFilterParams;
	readonly script: string;
	private readonly minRatio: number;

	constructor(params: ScriptRatioFilterParams) {
		this.#params = params;
		this.name = params.name ?? "script_ratio";
		const script = params.script ?? (params.lang !== undefined ? getLanguage(params.lang).script : undefined);
		if (script === undefined) throw new ConfigError("script-ratio filter needs a language or a script");
		scriptPattern(script);
		this.script = script;
		this.minRatio = params.minRatio ?? 0.5;
		if (!(this.minRatio >= 0 && this.minRatio <= 1)) throw new ConfigError(`script ratio must lie in [0, 1], got ${this.minRatio}`);
	}

	/** This filter as data (`FilterSpec`), to build it again in a filter worker. */
	spec(): FilterSpec {
		return { kind: "script_ratio", params: this.#params };
	}

	filter(document: { text: string }): FilterVerdict {
		const ratio = scriptRatio(document.text, this.script);
		return ratio < this.minRatio ? drop("script_ratio", { ratio: Number(ratio.toFixed(4)) }) : true;
	}
}
