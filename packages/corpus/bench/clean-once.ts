// One clean run in its own process, so that its peak memory (maxRSS) is its own. Prints a JSON line.
import { DuplicateLineFilter, LanguageIdFilter, LengthFilter, NgramRepetitionFilter, ScriptRatioFilter, WordListFilter, cleanCorpus, minhashDedupStage } from "../src/index.js";
import type { CorpusDocument, Filter } from "../src/index.js";

const { inputs, outDir, mode } = JSON.parse(process.argv[2] as string) as { inputs: string[]; outDir: string; mode: "io" | "filters" | "dedup" };
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
const summary = await cleanCorpus({ inputs, outDir, filters, dedup: mode === "dedup" ? minhashDedupStage({ lang: "th" }) : undefined, force: true, silent: true });
const seconds = (performance.now() - start) / 1000;
process.stdout.write(
	`${JSON.stringify({ mode, documents: summary.read, filtered: summary.filtered, kept: summary.kept, dropped: summary.dropped, dedup: summary.dedup, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
