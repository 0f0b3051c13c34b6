// One benchmark scenario per process (so that each reports its own peak RSS); run by bench/run.ts.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TcotStreamParser, buildTrainingFiles, interleaveTranslationPretraining, parseTcotOutput } from "@transllm/tcot";
import type { ParallelPair } from "@transllm/tcot";
import { alignedArticles } from "../test/udhr.js";

const articles = alignedArticles();
const article = (index: number) => articles[index % articles.length] as [number, string, string];

/** Writes the translated KD records of the build benchmark (UDHR articles, English and Thai) to `path`. */
async function recordsScenario(records: number, path: string) {
	const lines: string[] = [];
	for (let index = 0; index < records; index++) {
		const [number, english, thai] = article(index);
		lines.push(JSON.stringify({ id: `r${index}`, query_en: `Question ${index}: what does Article ${number} say?`, response_en: english, query_t: `คำถาม ${index}: ข้อ ${number}`, response_t: thai, lang: "th" }));
	}
	await writeFile(path, `${lines.join("\n")}\n`);
	return { records, path };
}

async function buildScenario(input: string) {
	const dir = await mkdtemp(join(tmpdir(), "tcot-bench-"));
	const cpu = process.cpuUsage();
	const start = performance.now();
	const result = await buildTrainingFiles({ translated: [input], outDir: join(dir, "out"), progress: null });
	const seconds = (performance.now() - start) / 1000;
	const used = process.cpuUsage(cpu);
	const cpuSeconds = (used.user + used.system) / 1e6;
	await rm(dir, { recursive: true, force: true });
	const instances = [result.counts.instances.train, result.counts.instances.validation]
		.flatMap((split) => Object.values(split).flatMap((byLang) => Object.values(byLang ?? {})))
		.reduce((sum, n) => sum + n, 0);
	const records = result.counts.records.translated;
	return { records, instances, seconds, cpuSeconds, recordsPerSecond: records / seconds, instancesPerCpuSecond: instances / cpuSeconds };
}

async function interleaveScenario(pairs: number, english: number) {
	async function* pairSource(): AsyncGenerator<ParallelPair> {
		for (let index = 0; index < pairs; index++) {
			const [, source, target] = article(index);
			yield { source: `${index} ${source}`, target: `${index} ${target}`, sourceLang: "en", targetLang: "th" };
		}
	}
	async function* englishSource(): AsyncGenerator<string> {
		for (let index = 0; index < english; index++) yield `${index} ${article(index + 7)[1]}`;
	}
	const start = performance.now();
	let lines = 0;
	let characters = 0;
	for await (const line of interleaveTranslationPretraining(pairSource(), englishSource(), { seed: 1, pairCount: pairs, englishLineCount: english })) {
		lines += 1;
		characters += line.length + 1;
	}
	const seconds = (performance.now() - start) / 1000;
	return { pairs, englishLines: english, lines, megabytes: characters / 1e6, seconds, linesPerSecond: lines / seconds };
}

function parseScenario(outputs: number, chunkSize: number) {
	const texts = Array.from({ length: 1000 }, (_, index) => {
		const [number, english, thai] = article(index);
		return `<EN> What does Article ${number} say? <RESPONSE> ${english} <TH> ${thai}</s>`;
	});
	const bytes = texts.reduce((sum, text) => sum + text.length, 0) * (outputs / texts.length);
	let start = performance.now();
	let complete = 0;
	for (let index = 0; index < outputs; index++) if (parseTcotOutput(texts[index % texts.length] as string, { lang: "th" }).complete) complete += 1;
	const batchSeconds = (performance.now() - start) / 1000;
	start = performance.now();
	for (let index = 0; index < outputs / 10; index++) {
		const text = texts[index % texts.length] as string;
		const parser = new TcotStreamParser({ lang: "th" });
		for (let offset = 0; offset < text.length; offset += chunkSize) parser.push(text.slice(offset, offset + chunkSize));
		parser.end();
	}
	const streamSeconds = (performance.now() - start) / 1000;
	return {
		outputs,
		complete,
		batchMegaCharsPerSecond: bytes / 1e6 / batchSeconds,
		batchOutputsPerSecond: outputs / batchSeconds,
		streamChunkChars: chunkSize,
		streamMegaCharsPerSecond: bytes / 10 / 1e6 / streamSeconds,
	};
}

const [name, ...args] = process.argv.slice(2);
const numbers = args.map(Number);
let result: unknown;
if (name === "records") result = await recordsScenario(numbers[0] ?? 50_000, args[1] as string);
else if (name === "build") result = await buildScenario(args[0] as string);
else if (name === "interleave") result = await interleaveScenario(numbers[0] ?? 1_000_000, numbers[1] ?? 1_000_000);
else if (name === "parse") result = parseScenario(numbers[0] ?? 200_000, numbers[1] ?? 4);
else throw new Error(`unknown scenario ${name}`);
process.stdout.write(`${JSON.stringify({ ...(result as object), maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
