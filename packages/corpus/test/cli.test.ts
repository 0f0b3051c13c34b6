import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { helpFor, runCli } from "@transllm/core";
import type { CommandTable } from "@transllm/core";
import { describe, expect, it } from "vitest";
import { corpusCommands } from "../src/index.js";
import { udhrArticlePairs, udhrParagraphs } from "./udhr.js";

const table: CommandTable = { corpus: { description: "corpus", subcommands: corpusCommands } };

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	const stdout = new PassThrough();
	const stderr = new PassThrough();
	const out: string[] = [];
	const err: string[] = [];
	stdout.on("data", (chunk: Buffer) => out.push(chunk.toString()));
	stderr.on("data", (chunk: Buffer) => err.push(chunk.toString()));
	const code = await runCli("transllm", table, args, { context: { stdout, stderr } });
	return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("transllm corpus", () => {
	it("should document every flag the issue names in --help", () => {
		expect(helpFor("transllm", table, ["corpus"])).toMatch(/clean[\s\S]*parallel[\s\S]*augment/);
		const clean = helpFor("transllm", table, ["corpus", "clean"]);
		for (const flag of ["--word-list", "--min-lang-confidence", "--min-script-ratio", "--min-chars", "--max-duplicate-lines", "--top-ngram", "--no-dedup", "--dedup-threshold", "--resume", "--on-bad-record", "--filter-workers"]) expect(clean).toContain(flag);
		const parallel = helpFor("transllm", table, ["corpus", "parallel"]);
		for (const flag of ["--sample", "--seed", "--max-length-ratio", "--english", "--english-sample", "--layout", "--low-resource-threshold", "--replication"]) expect(parallel).toContain(flag);
		const augment = helpFor("transllm", table, ["corpus", "augment"]);
		for (const flag of ["--dict", "--rate", "--hops", "--layout-out", "--direction-prob"]) expect(augment).toContain(flag);
	});

	it("should clean, build parallel data and augment from the command line", async () => {
		const dir = await mkdtemp(join(tmpdir(), "corpus-cli-"));
		const thai = udhrParagraphs("tha");
		await writeFile(join(dir, "th.txt"), `${[...thai, ...udhrParagraphs("eng").slice(0, 3)].join("\n")}\n`);
		await writeFile(join(dir, "sensitive.txt"), "# test list\nทาส\n");
		const clean = await run(["corpus", "clean", join(dir, "th.txt"), "--lang", "th", "--word-list", join(dir, "sensitive.txt"), "--out", join(dir, "clean"), "--workers", "0", "-q"]);
		expect(clean.stderr).toBe("");
		expect(clean.code).toBe(0);
		expect(clean.stdout).toMatch(/script_ratio\/dropped_script_ratio\s+3/);
		expect(clean.stdout).toMatch(/word_list\/dropped_word_list\s+1/);
		expect((await run(["corpus", "clean", join(dir, "th.txt"), "--lang", "th", "--out", join(dir, "clean")])).stderr).toMatch(/E_CONFIG.*--resume/);

		const pairs = udhrArticlePairs("eng", "tha");
		await writeFile(join(dir, "udhr.en"), `${pairs.map((p) => p.source).join("\n")}\n`);
		await writeFile(join(dir, "udhr.th"), `${pairs.map((p) => p.target).join("\n")}\n`);
		const parallel = await run(["corpus", "parallel", join(dir, "udhr.en"), join(dir, "udhr.th"), "--target-lang", "th", "--sample", "10", "--english", join(dir, "th.txt"), "--layout", "--out", join(dir, "para"), "-q"]);
		expect(parallel.code).toBe(0);
		expect(parallel.stdout).toMatch(/pairs sampled\s+10/);
		expect(parallel.stdout).toMatch(/layout records\s+30/);

		const fixtures = join(import.meta.dirname, "fixtures", "udhr-lexicon");
		const augment = await run([
			"corpus", "augment", join(dir, "para", "pairs.jsonl"), "--target-lang", "th",
			"--dict", join(fixtures, "en-fr.txt"), "--dict", `en-es=${join(fixtures, "en-es.tsv")}`, "--dict", join(fixtures, "en-th.txt"),
			"--rate", "1", "--out", join(dir, "aug.jsonl"), "-q",
		]);
		expect(augment.code).toBe(0);
		expect(augment.stdout).toMatch(/lexicon languages\s+en, es, fr, th/);
		const augmented = (await readFile(join(dir, "aug.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { replacements: { lang: string }[] });
		expect(augmented.length).toBeGreaterThan(0);
		// A line set aside by --on-bad-record skip is reported, not only kept in the rejects file.
		await writeFile(join(dir, "pairs.tsv"), `${pairs[0]?.source}\t${pairs[0]?.target}\nno tab here\n${pairs[1]?.source}\t${pairs[1]?.target}\n`);
		const skipped = await run(["corpus", "augment", join(dir, "pairs.tsv"), "--target-lang", "th", "--dict", join(fixtures, "en-th.txt"), "--on-bad-record", "skip", "--out", join(dir, "tsv-aug.jsonl"), "-q"]);
		expect(skipped.code).toBe(0);
		expect(skipped.stdout).toMatch(/pairs read\s+2\n[\s\S]*rejected \(see \*\.rejects\.jsonl\)\s+1\n/);
		expect((await readFile(join(dir, "tsv-aug.jsonl.rejects.jsonl"), "utf8")).trim().split("\n")).toHaveLength(1);
		expect((await run(["corpus", "augment", join(dir, "para", "pairs.jsonl"), "--target-lang", "th", "--dict", join(dir, "lexicon.txt"), "--out", join(dir, "x.jsonl")])).stderr).toMatch(/--dict .*lexicon\.txt: name the languages/);
		expect((await run(["corpus", "augment", join(dir, "para", "pairs.jsonl"), "--target-lang", "th", "--dict", join(fixtures, "en-fr.txt"), "--rate", "2", "--out", join(dir, "x.jsonl")])).stderr).toMatch(/--rate must be ≤ 1/);
	});
});
