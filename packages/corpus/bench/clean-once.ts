// One clean run in its own process, so that its peak memory (maxRSS) is its own. Prints a JSON line.
// The built package (dist/), as users run it: filter workers then load the compiled worker, not TypeScript through tsx.
import { DuplicateLineFilter, LanguageIdFilter, LengthFilter, NgramRepetitionFilter, ScriptRatioFilter, WordListFilter, cleanCorpus, minhashDedupStage } from "../dist/index.js";
import type { CorpusDocument, Filter } from "../dist/index.js";

// Modes: io (read → write, one thread: the floor), filters-1 (the six filters in one thread), filters (the six
// filters on `filterWorkers` threads, one input shard per thread), dedup (filters on threads + MinHash dedup).
const { inputs, outDir, mode, filterWorkers } = JSON.parse(process.argv[2] as string) as { inputs: string[]; outDir: string; mode: "io" | "filters-1" | "filters" | "dedup"; filterWorkers: number };
const filters: Filter<CorpusDocument>[] =
	mode === "io"
		? []
		: [
				new LengthFilter({ minChars: 20 }),
				new ScriptRatioFilter({ lang: "th" }),
				new LanguageIdFilter({ lang: "th" }),
				new DuplicateLineFilter(),
				new NgramRepetitionFilter({ lang: "th" }),
				new WordListFilter({ words: ["ทาส", "การพนัน", "ยาเสพติด"], lang: "th" }),
			];
const start = performance.now();
const cpu = process.cpuUsage();
const threads = mode === "io" || mode === "filters-1" ? 1 : filterWorkers;
const summary = await cleanCorpus({ inputs, outDir, filters, dedup: mode === "dedup" ? minhashDedupStage({ lang: "th" }) : undefined, force: true, silent: true, filterWorkers: threads });
const seconds = (performance.now() - start) / 1000;
const used = process.cpuUsage(cpu); // every thread of the process: the filter workers and dedup's hash workers too
const cpuSeconds = (used.user + used.system) / 1e6;
process.stdout.write(
	`${JSON.stringify({ mode, filterWorkers: threads, documents: summary.read, filtered: summary.filtered, kept: summary.kept, dropped: summary.dropped, dedup: summary.dedup, seconds, cpuSeconds, docsPerCpuSecond: summary.read / cpuSeconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
