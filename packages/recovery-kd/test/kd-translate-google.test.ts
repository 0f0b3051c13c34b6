import { mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { buildTcotInstance } from "@transllm/tcot";
import type { TranslatedRecord } from "@transllm/tcot";
import { afterEach, describe, expect, it } from "vitest";
import { RemoteError, createGoogleTranslateBackend, startGoogleTranslateLoopbackServer, translateRecoveryKd } from "../src/index.js";
import type { GoogleLoopbackServer, TranslatedKdRecord } from "../src/index.js";
import { udhrParagraphs, udhrThaiTranslator } from "./udhr-text.js";

const KEY = "AIza-test-SECRET-key-4242";
const servers: GoogleLoopbackServer[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: Partial<Parameters<typeof startGoogleTranslateLoopbackServer>[0]> = {}): Promise<GoogleLoopbackServer> {
	const started = await startGoogleTranslateLoopbackServer({ translate: udhrThaiTranslator(), apiKey: KEY, ...options });
	servers.push(started);
	return started;
}

const CODE_ANSWER = [
	"Here is a function that checks primes:",
	"",
	"```python",
	"def is_prime(n):",
	"    # trial division",
	"    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))",
	"```",
	"",
	"1. Call `is_prime(7)` to test it.",
	"2. Read more at https://docs.python.org/3/ or e-mail help@python.org.",
].join("\n");

/** A `kd generate` output: UDHR paragraphs as queries (real English with real Thai parallels) and answers. */
async function kdInput(dir: string, n = 12): Promise<string> {
	const english = udhrParagraphs("eng");
	const lines = Array.from({ length: n }, (_, i) => {
		const response = i === 3 ? CODE_ANSWER : i === 5 ? "I cannot help with making weapons. If you are in danger, please contact local authorities." : (english[i + 20] as string);
		return JSON.stringify({ id: `q${i}`, query_en: english[i] as string, response_en: response, model: "llama-2-7b-chat", params: { temperature: 0, max_tokens: 1024 }, finish_reason: "stop" });
	});
	const path = join(dir, "kd.jsonl");
	await writeFile(path, `${lines.join("\n")}\n`);
	return path;
}

async function readRecords(path: string): Promise<TranslatedKdRecord[]> {
	return (await readFile(path, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as TranslatedKdRecord);
}

const fast = { retries: 8, baseDelayMs: 1, maxDelayMs: 5 };

describe("translateRecoveryKd with Google Cloud Translation v2 (loopback)", () => {
	it("should translate every pair through the v2 shape, keep code and protected spans, and check the language", async () => {
		const s = await server();
		const dir = await mkdtemp(join(tmpdir(), "kd-tr-"));
		const input = await kdInput(dir);
		const out = join(dir, "kd.th.jsonl");
		const backend = createGoogleTranslateBackend({ apiKey: KEY, endpoint: s.endpoint, retry: fast });
		const summary = await translateRecoveryKd({ input, out, lang: "th", backend, progress: false });
		expect(summary).toMatchObject({ records: 12, translated: 12, rejected: 0 });
		const records = await readRecords(out);
		expect(records.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => `q${i}`));
		const thai = udhrParagraphs("tha");
		// UDHR paragraphs come back as their Thai articles: the pipeline put each translation in its place.
		expect(records[0]?.query_t).toBe(thai[0]);
		expect(Object.keys(records[0] as object)).toEqual(["id", "query_en", "response_en", "query_t", "response_t", "lang"]);
		const code = records[3] as TranslatedKdRecord;
		expect(code.response_t).toContain("```python\ndef is_prime(n):\n    # trial division\n");
		expect(code.response_t).toContain("`is_prime(7)`");
		expect(code.response_t).toContain("https://docs.python.org/3/");
		expect(code.response_t).toContain("help@python.org");
		expect(code.response_t).toMatch(/^\p{Script=Thai}/u);
		expect(code.response_t).toContain("\n1. ");
		// The refusal is translated and kept like every other answer.
		expect(records[5]?.response_t).toMatch(/\p{Script=Thai}/u);
		expect(records.every((r) => r.flags === undefined)).toBe(true);
		expect(s.requests.every((r) => r.format === "html" && r.source === "en" && r.target === "th" && r.hasKey && r.q.length <= 128)).toBe(true);
		expect(s.requests.flatMap((r) => r.q).some((q) => q.includes("def is_prime"))).toBe(false);
		const manifest = JSON.parse(await readFile(summary.manifest, "utf8")) as { status: string; output: { records: number } };
		expect(manifest).toMatchObject({ status: "complete", output: { records: 12 } });
		// The records are what @transllm/tcot builds TCOT instances from: cat(<EN>, q_en, <RESPONSE>, a_en, <TH>, a_t).
		const instance = buildTcotInstance(code satisfies TranslatedRecord);
		expect(instance.query).toBe(code.query_t);
		expect(instance.response).toContain("<RESPONSE>");
		expect(instance.response).toContain(code.response_en);
		expect(instance.response.endsWith(code.response_t)).toBe(true);
	});

	it("should retry 429, 500, timeouts, resets and malformed bodies and give the same file as a clean run", async () => {
		const dir = await mkdtemp(join(tmpdir(), "kd-tr-"));
		const input = await kdInput(dir);
		const clean = await server();
		await translateRecoveryKd({ input, out: join(dir, "clean.jsonl"), lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: clean.endpoint, retry: fast }), progress: false });
		const faulty = await server({ faults: { queue: ["429", "500", "timeout", "reset", "malformed", "wrong-shape", "503"], retryAfterSeconds: 0 } });
		const backend = createGoogleTranslateBackend({ apiKey: KEY, endpoint: faulty.endpoint, retry: fast, timeoutMs: 1500, concurrency: 4 });
		const summary = await translateRecoveryKd({ input, out: join(dir, "faulty.jsonl"), lang: "th", backend, progress: false });
		expect(faulty.faults.pending).toBe(0);
		// One retry per injected fault (more only if a loaded machine also lets a real request time out).
		expect(summary.retries).toBeGreaterThanOrEqual(7);
		expect(await readFile(join(dir, "faulty.jsonl"), "utf8")).toBe(await readFile(join(dir, "clean.jsonl"), "utf8"));
		const manifest = JSON.parse(await readFile(summary.manifest, "utf8")) as { runs: { retries: number }[] };
		expect(manifest.runs[0]?.retries).toBe(summary.retries);
	});

	it("should never accept a malformed response: the run fails, keeps its partial output, and resumes to the clean result", async () => {
		const dir = await mkdtemp(join(tmpdir(), "kd-tr-"));
		const input = await kdInput(dir);
		const clean = await server();
		await translateRecoveryKd({ input, out: join(dir, "clean.jsonl"), lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: clean.endpoint, retry: fast }), progress: false });
		const broken = await server();
		const out = join(dir, "out.jsonl");
		// Records 0-4 go through; then every answer is malformed.
		let calls = 0;
		const backend = createGoogleTranslateBackend({ apiKey: KEY, endpoint: broken.endpoint, retry: { retries: 2, baseDelayMs: 1 }, concurrency: 1 });
		const original = backend.translate.bind(backend);
		backend.translate = async (texts, request) => {
			calls += 1;
			if (calls > 5) broken.faults.inject("malformed", "wrong-shape", "malformed");
			return original(texts, request);
		};
		const error = await translateRecoveryKd({ input, out, lang: "th", backend, progress: false }).catch((e: unknown) => e);
		expect(RemoteError.isRemote(error)).toBe(true);
		expect((error as Error).message).toMatch(/malformed response/);
		expect((error as Error).message).toContain("--resume");
		await expect(stat(out)).rejects.toThrow();
		const partial = await readRecords(`${out}.partial`);
		expect(partial.map((r) => r.id)).toEqual(["q0", "q1", "q2", "q3", "q4"]);
		// Resuming over a changed input would mix two datasets in one output: refused.
		const changed = join(dir, "changed.jsonl");
		await writeFile(changed, `${await readFile(input, "utf8")}{"id": "extra", "query_en": "One more.", "response_en": "Yes."}\n`);
		await expect(translateRecoveryKd({ input: changed, out, lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: broken.endpoint }), resume: true, progress: false })).rejects.toThrow(/cannot resume.*SHA-256/);
		const resumed = await translateRecoveryKd({ input, out, lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: broken.endpoint, retry: fast }), resume: true, progress: false });
		expect(resumed).toMatchObject({ resumed: 5, translated: 7, records: 12 });
		expect(await readFile(out, "utf8")).toBe(await readFile(join(dir, "clean.jsonl"), "utf8"));
	});

	it("should stop at once on a bad key without retrying, and never write the key anywhere", async () => {
		const s = await server();
		const dir = await mkdtemp(join(tmpdir(), "kd-tr-"));
		const input = await kdInput(dir);
		const out = join(dir, "out.jsonl");
		const wrong = "AIza-WRONG-SECRET-9999";
		const progress = new PassThrough();
		let logged = "";
		progress.on("data", (chunk: Buffer) => (logged += chunk.toString()));
		const error = await translateRecoveryKd({ input, out, lang: "th", backend: createGoogleTranslateBackend({ apiKey: wrong, endpoint: s.endpoint, retry: fast, concurrency: 1 }), progress }).catch((e: unknown) => e);
		expect(RemoteError.isRemote(error) && error.fatal).toBe(true);
		expect(s.requests).toHaveLength(1);
		const manifestText = await readFile(`${out}.manifest.json`, "utf8");
		const files = await readdir(dir);
		const everything = [String((error as Error).message), String((error as Error).stack), manifestText, logged, ...(await Promise.all(files.map((f) => readFile(join(dir, f), "utf8"))))].join("\n");
		expect(everything).not.toContain(wrong);
		expect(everything).not.toContain(KEY);
		expect(JSON.parse(manifestText)).toMatchObject({ status: "failed" });
	});

	it("should flag language mismatches and lost masks, keep those records, and list them in the manifest", async () => {
		const dir = await mkdtemp(join(tmpdir(), "kd-tr-"));
		const input = await kdInput(dir, 6);
		// An engine that returns English: every translated field fails the Thai check.
		const echo = await server({ translate: (text) => text });
		const summary = await translateRecoveryKd({ input, out: join(dir, "echo.jsonl"), lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: echo.endpoint, retry: fast }), progress: false });
		const echoed = await readRecords(join(dir, "echo.jsonl"));
		expect(echoed).toHaveLength(6);
		expect(echoed[0]?.flags).toEqual(["lang_mismatch_query", "lang_mismatch_response"]);
		expect(echoed[0]?.lang_check?.query).toMatch(/Thai/);
		const manifest = JSON.parse(await readFile(summary.manifest, "utf8")) as { report: Record<string, string[]> };
		expect(manifest.report.lang_mismatch_query).toEqual(["q0", "q1", "q2", "q3", "q4", "q5"]);
		// An engine that damages protected spans: the pipeline retries, then translates around the spans.
		const thai = udhrThaiTranslator();
		const damaging = await server({ keepSpans: false, translate: (text) => thai(text.replace(/<span translate="no">[\s\S]*?<\/span>/g, "")) });
		await translateRecoveryKd({ input, out: join(dir, "damaged.jsonl"), lang: "th", backend: createGoogleTranslateBackend({ apiKey: KEY, endpoint: damaging.endpoint, retry: fast }), progress: false });
		const damaged = (await readRecords(join(dir, "damaged.jsonl")))[3] as TranslatedKdRecord;
		expect(damaged.flags).toContain("mask_fallback");
		expect(damaged.response_t).toContain("`is_prime(7)`");
		expect(damaged.response_t).toContain("https://docs.python.org/3/");
		expect(damaged.response_t).toContain("help@python.org");
	});
});
