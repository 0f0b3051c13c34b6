import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTrainingFiles } from "../src/index.js";
import type { BuildTrainingFilesOptions } from "../src/index.js";
import { alignedArticles } from "./udhr.js";

// The bytes `tcot build` writes for a seed are a contract (a resumed file must equal a fresh one, and a user
// rebuilding with the same seed gets the same data): these hashes were taken from the build before its fast
// writer, so any change to the output is deliberate. The inputs mix real UDHR text with the texts that test an
// escaper: quotes, backslashes, control characters, U+2028, emoji (surrogate pairs), a lone surrogate, and a
// special token under --special-tokens escape.
let dir: string;
const inputs = { translated: "", translatedAr: "", kd: "", parallel: "" };

const awkward = ['He said "no" \\ then\ttabbed\u0001.', "Line one\nline two\u2028three", "Smile 😀 and 🇹🇭 flag", "Lone \ud83d surrogate", "  padded  "];

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "tcot-golden-"));
	const articles = alignedArticles().slice(0, 12);
	const arabic = alignedArticles("arb").slice(0, 6);
	const jsonl = (records: unknown[]) => `${records.map((record) => JSON.stringify(record)).join("\n")}\n`;
	inputs.translated = join(dir, "translated.jsonl");
	await writeFile(
		inputs.translated,
		jsonl(
			articles.map(([number, en, th], index) => ({
				id: `a${number}`,
				query_en: `What does Article ${number} say? ${awkward[index % awkward.length]}`,
				response_en: index === 3 ? `${en} <RESPONSE> inside` : en,
				query_t: `ข้อ ${number} ${awkward[(index + 1) % awkward.length]}`,
				response_t: th,
				lang: "th",
			})),
		),
	);
	inputs.translatedAr = join(dir, "translated.ar.jsonl");
	await writeFile(inputs.translatedAr, jsonl(arabic.map(([number, en, ar]) => ({ id: `a${number}`, query_en: `Article ${number}?`, response_en: en, query_t: `المادة ${number}`, response_t: ar, lang: "ar" }))));
	inputs.kd = join(dir, "kd.jsonl");
	await writeFile(inputs.kd, jsonl([{ id: "a2", query_en: "Article 2?", response_en: "The KD answer \"wins\"." }, { id: "kd-1", query_en: "Hi 😀", response_en: awkward[1] }]));
	inputs.parallel = join(dir, "parallel.jsonl");
	await writeFile(inputs.parallel, jsonl(articles.slice(0, 5).map(([, en, th], index) => ({ source: `${en} ${awkward[index]}`, target: th, sourceLang: "en", targetLang: "th" }))));
});

afterAll(async () => {
	await rm(dir, { recursive: true, force: true });
});

async function hashes(name: string, options: Omit<BuildTrainingFilesOptions, "outDir">): Promise<Record<string, string>> {
	const outDir = join(dir, name);
	const result = await buildTrainingFiles({ outDir, progress: null, ...options });
	const out: Record<string, string> = {};
	for (const key of ["train", "validation", "instances"]) {
		const path = result.files[key];
		if (path) out[key] = createHash("sha256").update(await readFile(path)).digest("hex").slice(0, 16);
	}
	return out;
}

const all = () => ({ translated: [inputs.translated, inputs.translatedAr], kd: [inputs.kd], parallel: [inputs.parallel], parallelUse: ["sft" as const], specialTokens: "escape" as const });

describe("tcot build output bytes", () => {
	it("should stay the same for every style, with and without metadata", async () => {
		expect(await hashes("sharegpt", { ...all(), validationSize: 10 })).toEqual({ train: "4f27965c4e685151", validation: "b035e6994146fba3" });
		expect(await hashes("alpaca-meta", { ...all(), style: "alpaca", metadata: true, validationSize: 7, seed: 3 })).toEqual({ train: "8b823476bd5e7694", validation: "2c6f8710dc97f185" });
		expect(await hashes("messages-meta", { ...all(), format: "trl", metadata: true, validationSize: 0, seed: "x" })).toEqual({ train: "b1f08b070bef73a7" });
		expect(await hashes("prompt-completion", { ...all(), format: "trl", style: "prompt-completion", instructionLanguage: "random", validationSize: 12 })).toEqual({ train: "d51bf61bea739236", validation: "8b7a6169c939abd7" });
	});

	it("should stay the same for a sharded build's task and finishing step", async () => {
		const task = await hashes("task", { ...all(), rank: 1, worldSize: 2, instancesOut: join(dir, "part-1.jsonl") });
		expect(task).toEqual({ instances: "5bbf0b5f48293270" });
		await hashes("task0", { ...all(), rank: 0, worldSize: 2, instancesOut: join(dir, "part-0.jsonl") });
		expect(await hashes("finish", { ...all(), instanceParts: [join(dir, "part-0.jsonl"), join(dir, "part-1.jsonl")], validationSize: 10 })).toEqual(await hashes("sharegpt-again", { ...all(), validationSize: 10 }));
	});
});
