import { join } from "node:path";
import type { PipelineConfig } from "../config.js";
import type { StageRecord } from "../lock-file.js";
import { upstreamOutputs } from "../stage.js";

/** The translated KD records of one language: the kd-translate stage's checked file, then the config's `translated` files. */
export function translatedFiles(config: PipelineConfig, upstream: Record<string, StageRecord>, lang: string): string[] {
	return [
		...upstreamOutputs(config.workdir, upstream, "kd-translate", (path) => path === join("kd-translate", `${lang}.checked.jsonl`)),
		...(config.languages[lang]?.translated ?? []),
	];
}
