import { ConfigError, choiceOption, listOption, numberOption, optionalString, stringOption } from "@transllm/core";
import type { CliValues, CommandTable } from "@transllm/core";
import type { DedupStage, KeepPolicy } from "./dedup-config.js";
import { planBands, sCurve } from "./lsh-plan.js";
import { runDedup } from "./run-dedup.js";

function keepPolicy(value: string | undefined): KeepPolicy {
	if (value === undefined || value === "first" || value === "longest") return value ?? "first";
	if (value.startsWith("field:") && value.length > 6) return { field: value.slice(6) };
	throw new ConfigError(`--keep must be first, longest or field:<name>, got "${value}"`);
}

function optionalNumber(values: CliValues, name: string, check?: { min?: number; max?: number; integer?: boolean }): number | undefined {
	return values[name] === undefined ? undefined : numberOption(values, name, 0, check);
}

/** `transllm dedup …` */
export const dedupCommands: CommandTable = {
	run: {
		description: "Remove near-duplicate documents with MinHash LSH (TransLLM Sec. 3.1): signatures → buckets → clusters → filter",
		positionals: [{ name: "in", description: "input .jsonl / .jsonl.gz files", required: true, variadic: true }],
		options: {
			out: { type: "string", description: "output directory: kept/, removed/ (manifest), stats.json, stage files", required: true, valueName: "<dir>" },
			threshold: { type: "string", description: "Jaccard similarity at which two documents are duplicates", default: "0.8", valueName: "<j>" },
			lang: { type: "string", description: "corpus language (with --unit word: th, lo, km, my, zh, ja are word-segmented with Intl.Segmenter; mixed text is detected anyway)", valueName: "<code>" },
			"num-perm": { type: "string", description: "MinHash signature length", default: "128", valueName: "<n>" },
			ngram: { type: "string", description: "shingle length in units", default: "5", valueName: "<n>" },
			unit: { type: "string", description: "shingle unit: auto (words; characters of Thai, Lao, Khmer, Myanmar, CJK), word (Intl.Segmenter words there) or char", default: "auto", valueName: "<unit>" },
			"text-field": { type: "string", description: "field holding the text", default: "text", valueName: "<field>" },
			"id-field": { type: "string", description: "field holding a unique id (default: file:line); duplicate ids are bad records", valueName: "<field>" },
			keep: { type: "string", description: "which duplicate survives: first, longest, or field:<name> (highest number wins)", default: "first", valueName: "<policy>" },
			scheme: { type: "string", description: "signature scheme: oph (one-permutation hashing + densification) or kperm (k permutations mod 2^31−1)", default: "oph", valueName: "<scheme>" },
			bands: { type: "string", description: "LSH bands (default: planned, see `transllm dedup plan`)", valueName: "<b>" },
			rows: { type: "string", description: "rows per band (default: planned)", valueName: "<r>" },
			"fn-weight": { type: "string", description: "weight of false negatives when planning bands × rows", default: "0.98", valueName: "<w>" },
			verify: { type: "string", description: "candidate verification: exact (Jaccard of shingle sets) or signature (estimate)", default: "exact", valueName: "<mode>" },
			"max-cluster-size": { type: "string", description: "flag clusters larger than this (clusters/oversized.jsonl, manifest)", default: "1000", valueName: "<n>" },
			"max-bucket-size": { type: "string", description: "band buckets larger than this are compared as star + chain, not all pairs", default: "50", valueName: "<n>" },
			seed: { type: "string", description: "seed of shingle hashes, permutations and band keys", default: "1", valueName: "<n>" },
			"on-bad-record": { type: "string", description: "bad record policy: error (stop, naming file:line) or skip (to kept/<rank>.jsonl.rejects.jsonl)", default: "error", valueName: "<policy>" },
			"max-document-bytes": { type: "string", description: "longer texts are bad records", default: String(16 * 1024 * 1024), valueName: "<n>" },
			"special-tokens": { type: "string", description: "texts holding </s>, <EN>, <RESPONSE>, a language-ID or chat control token: error (a bad record) | escape (U+2060 after the first character, in the kept text) | allow", default: "error", valueName: "<policy>" },
			workers: { type: "string", description: "hashing threads (default: all cores; 0 = main thread)", valueName: "<n>" },
			"memory-mb": { type: "string", description: "memory for band tables before they spill to disk as sorted runs", default: "1024", valueName: "<mb>" },
			stage: { type: "string", description: "run one stage: signatures, buckets, clusters, filter, or all", default: "all", valueName: "<stage>" },
			rank: { type: "string", description: "this task's rank within the stage (with --stage, across machines)", valueName: "<r>" },
			"world-size": { type: "string", description: "number of tasks of the stage (signatures/filter: input files are split files[r::W]; buckets: bands)", valueName: "<w>" },
			against: { type: "string", description: "output directory of an earlier run to dedup against (its documents win)", multiple: true, valueName: "<dir>" },
			resume: { type: "boolean", description: "continue an interrupted run (finished units are skipped)" },
			force: { type: "boolean", description: "replace an earlier run in --out" },
			quiet: { type: "boolean", description: "no progress lines" },
		},
		details: [
			"Example:",
			"  transllm dedup run mc4-th-*.jsonl.gz --out dedup-th --threshold 0.8 --lang th",
			"Across machines (each command on its own machine, sharing --out):",
			"  transllm dedup run in/*.jsonl --out shared/dedup --stage signatures --rank R --world-size 64",
			"  transllm dedup run in/*.jsonl --out shared/dedup --stage buckets --rank R --world-size 17",
			"  transllm dedup run in/*.jsonl --out shared/dedup --stage clusters",
			"  transllm dedup run in/*.jsonl --out shared/dedup --stage filter --rank R --world-size 64",
		].join("\n"),
		async run({ values, positionals }, context) {
			const result = await runDedup({
				inputs: positionals,
				outDir: stringOption(values, "out"),
				threshold: numberOption(values, "threshold", 0.8, { min: 0.01, max: 0.99 }),
				lang: optionalString(values, "lang"),
				numPerm: numberOption(values, "num-perm", 128, { min: 2, max: 4096, integer: true }),
				ngram: numberOption(values, "ngram", 5, { min: 1, max: 64, integer: true }),
				unit: choiceOption(values, "unit", ["auto", "word", "char"] as const),
				textField: optionalString(values, "text-field"),
				idField: optionalString(values, "id-field"),
				keep: keepPolicy(optionalString(values, "keep")),
				scheme: choiceOption(values, "scheme", ["oph", "kperm"] as const),
				bands: optionalNumber(values, "bands", { min: 1, integer: true }),
				rows: optionalNumber(values, "rows", { min: 1, integer: true }),
				falseNegativeWeight: numberOption(values, "fn-weight", 0.98, { min: 0, max: 1 }),
				verify: choiceOption(values, "verify", ["exact", "signature"] as const),
				maxClusterSize: numberOption(values, "max-cluster-size", 1000, { min: 2, integer: true }),
				maxBucketSize: numberOption(values, "max-bucket-size", 50, { min: 2, integer: true }),
				seed: numberOption(values, "seed", 1, { min: 0, max: 4294967295, integer: true }),
				onBadRecord: choiceOption(values, "on-bad-record", ["error", "skip"] as const),
				maxDocumentBytes: numberOption(values, "max-document-bytes", 16 * 1024 * 1024, { min: 1, integer: true }),
				specialTokens: choiceOption(values, "special-tokens", ["error", "escape", "allow"] as const),
				workers: optionalNumber(values, "workers", { min: 0, integer: true }),
				memoryLimitMb: numberOption(values, "memory-mb", 1024, { min: 16 }),
				stage: choiceOption(values, "stage", ["all", "signatures", "buckets", "clusters", "filter"] as const) as DedupStage | "all" | undefined,
				rank: optionalNumber(values, "rank", { min: 0, integer: true }),
				worldSize: optionalNumber(values, "world-size", { min: 1, integer: true }),
				against: listOption(values, "against"),
				resume: values.resume === true,
				overwrite: values.force === true,
				progress: values.quiet !== true,
			});
			const { stats } = result;
			if (stats) {
				context.stdout.write(
					`${stats.documents} documents: kept ${stats.kept}, removed ${stats.removed} (${(stats.duplicateFraction * 100).toFixed(2)}%) in ${stats.clusters} clusters; ` +
						`${stats.shortDocuments} short and ${stats.emptyDocuments} empty documents kept; ${stats.rejected} bad records; ` +
						`bands × rows ${result.config.bands} × ${result.config.rows}\n`,
				);
				context.stdout.write(`kept: ${result.outputs.kept.join(", ")}\nremoved manifest: ${result.outputs.removed.join(", ")}\nstats: ${result.outputs.stats}\n`);
			} else context.stdout.write("stage done; later stages remain (run them with --stage)\n");
		},
	},
	plan: {
		description: "Choose LSH bands × rows for a threshold and print the S-curve P(candidate | Jaccard)",
		options: {
			threshold: { type: "string", description: "Jaccard similarity threshold", default: "0.8", valueName: "<j>" },
			"num-perm": { type: "string", description: "MinHash signature length", default: "128", valueName: "<n>" },
			"fn-weight": { type: "string", description: "weight of false negatives (0.5 reproduces datasketch's choice)", default: "0.98", valueName: "<w>" },
			"fp-weight": { type: "string", description: "weight of false positives (default 1 − fn-weight)", valueName: "<w>" },
			json: { type: "boolean", description: "print JSON instead of a table" },
		},
		async run({ values }, context) {
			const falseNegativeWeight = numberOption(values, "fn-weight", 0.98, { min: 0, max: 1 });
			const plan = planBands({
				threshold: numberOption(values, "threshold", 0.8, { min: 0.01, max: 0.99 }),
				numPerm: numberOption(values, "num-perm", 128, { min: 2, max: 4096, integer: true }),
				falseNegativeWeight,
				falsePositiveWeight: optionalNumber(values, "fp-weight", { min: 0, max: 1 }),
			});
			const curve = sCurve(plan.bands, plan.rows);
			if (values.json === true) {
				context.stdout.write(`${JSON.stringify({ ...plan, sCurve: curve }, null, 2)}\n`);
				return;
			}
			const lines = [
				`threshold ${plan.threshold}, num_perm ${plan.numPerm}: bands × rows = ${plan.bands} × ${plan.rows}` +
					` (weights fn ${plan.falseNegativeWeight}, fp ${plan.falsePositiveWeight}; P(candidate | J=${plan.threshold}) = ${plan.candidateProbabilityAtThreshold.toFixed(4)})`,
				"",
				"   J   P(candidate)",
				...curve.map(({ similarity, probability }) => `${similarity.toFixed(2).padStart(5)}   ${probability.toFixed(4)}  ${"#".repeat(Math.round(probability * 40))}`),
			];
			context.stdout.write(`${lines.join("\n")}\n`);
		},
	},
};
