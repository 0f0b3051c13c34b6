// The quickstart demo (`pnpm demo` = build + node examples/quickstart/run.mjs = `transllm run
// examples/quickstart/transllm.yaml`, then `transllm status`) run as users run it, twice: the first run does every
// stage, the second is a no-op. The outputs are read back: real Thai training files, a cleaned corpus, an extended
// tokenizer, recovery-KD records, CLO pairs, a probe report. The root `pnpm test` builds every package first.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pythonRef } from "@transllm/python-ref";
import { parseTcotOutput } from "@transllm/tcot";
import { beforeAll, describe, expect, it } from "vitest";
import { checkPage, chromiumPath } from "../packages/transllm/test/chromium.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = (path: string) => join(root, "examples", "quickstart", "out", path);
const readJson = <T = Record<string, unknown>>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;
const readRecords = <T = Record<string, unknown>>(path: string): T[] =>
	readFileSync(path, "utf8")
		.split("\n")
		.filter(Boolean)
		.map((line) => JSON.parse(line) as T);
const thai = /\p{Script=Thai}/u;
// The demo trains with the reference venv (../../.venv, scripts/setup-python.sh); without it the training stages wait.
const engine = pythonRef(["torch", "transformers", "peft", "trl"]);
const DATA_STAGES = ["clean", "fertility", "extend", "pretraining", "kd-generate", "kd-translate", "tcot", "probe", "clo", "train-plan"];
const TRAINED_STAGES = ["train-target", "train-translation", "train-transfer", "train-merge", "export", "eval"];

interface Demo {
	code: number | null;
	stdout: string;
	stderr: string;
	seconds: number;
}

function demo(): Promise<Demo> {
	const started = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [join(root, "examples", "quickstart", "run.mjs")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
		child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
		child.on("error", reject);
		child.on("close", (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
	});
}

let first: Demo;
let second: Demo;

beforeAll(async () => {
	rmSync(join(root, "examples", "quickstart", "out"), { recursive: true, force: true });
	first = await demo();
	second = await demo();
}, 600_000);

describe("examples/quickstart (pnpm demo)", () => {
	it("runs every stage, prints the status table and the report's path, and exits 0", () => {
		expect(first.code, `stdout:\n${first.stdout.slice(-3000)}\nstderr:\n${first.stderr.slice(-3000)}`).toBe(0);
		const ran = [...first.stdout.matchAll(/^✓ ([a-z-]+) in /gm)].map((match) => match[1]);
		if (!engine.ref) console.warn(`the demo's training stages wait for training: ${engine.reason}`);
		expect(ran).toEqual(engine.ref ? [...DATA_STAGES, ...TRAINED_STAGES] : DATA_STAGES);
		if (!engine.ref) expect(first.stdout).toMatch(/^⏸ train-target: waiting for training/m);
		expect(first.stdout).toMatch(/weights are random/i);
		expect(first.stdout).toMatch(/^stage\s+state\s+figures\s+outputs$/m);
		expect(first.stdout).toMatch(/^clean\s+up to date\s+th: read 39, filtered 31, kept 28/m);
		expect(first.stdout).toContain("Report: examples/quickstart/out/report.html");
		expect(readFileSync(out("report.html"), "utf8")).toContain("<svg");
	});

	it("a second run right after is a no-op: every stage is up to date", () => {
		expect(second.code).toBe(0);
		if (engine.ref) expect(second.stdout).toContain("every stage is up to date");
		// Without the engine, the first training stage is tried again (is its checkpoint there?) and waits again.
		expect(second.stdout.match(/^▶ [a-z-]+/gm) ?? []).toEqual(engine.ref ? [] : ["▶ train-target"]);
		expect([...second.stdout.matchAll(/^= ([a-z-]+): up to date$/gm)]).toHaveLength(engine.ref ? 16 : 10);
		if (!engine.ref) expect(second.stdout).toMatch(/^train-translation\s+after training \(train-target waiting\)/m);
		expect(second.seconds).toBeLessThan(first.seconds);
	});

	it("writes real Thai TCOT training files for LLaMA-Factory, and the translation pre-training text", () => {
		const train = readRecords<{ conversations: { from: string; value: string }[] }>(out("tcot/train.jsonl"));
		const tcot = train.filter((record) => /^<EN> .+ <RESPONSE> .+ <TH> .+/s.test(record.conversations[1]?.value ?? ""));
		expect(tcot.length).toBeGreaterThan(0);
		for (const record of tcot) {
			const [human, gpt] = record.conversations;
			expect(human?.from).toBe("human");
			expect(human?.value).toMatch(thai);
			const parsed = parseTcotOutput(gpt?.value ?? "", { lang: "th" });
			expect(parsed.complete).toBe(true);
			expect(parsed.queryEn).toMatch(/[A-Za-z]/);
			expect(parsed.responseEn).toMatch(/[A-Za-z]/);
			expect(parsed.responseTarget).toMatch(thai);
		}
		expect(readJson(out("tcot/dataset_info.json"))).toBeTypeOf("object");
		const pretraining = readRecords<{ text: string }>(out("tcot/translation_pretraining.jsonl"));
		expect(pretraining.some((record) => record.text.split("\n").some((line) => / <TH> /.test(line) && thai.test(line)))).toBe(true);
		expect(existsSync(out("pretraining/th/translation-pretraining.jsonl"))).toBe(true);
	});

	it("cleans the corpus: the planted documents are dropped, the re-posts by MinHash dedup", () => {
		const summary = readJson<{ read: number; kept: number; outputs: string[]; dedup: { removed: number } }>(out("clean/th/summary.json"));
		expect(summary.read).toBe(39);
		expect(summary.dedup.removed).toBe(3);
		const kept = summary.outputs.flatMap((path) => readRecords<{ id: string; text: string }>(path));
		expect(kept.length).toBe(summary.kept);
		for (const document of kept) {
			expect(document.id).toMatch(/^tha-(\d+|preamble)$/);
			expect(document.text).toMatch(thai);
			expect(document.text).not.toMatch(/ทาส|ทรมาน/);
		}
		const removed = readdirSync(out("clean/th/dedup/removed")).flatMap((name) => readRecords(out(`clean/th/dedup/removed/${name}`)));
		expect(removed).toHaveLength(3);
	});

	it("extends Llama-3's tokenizer so that held-out Thai takes fewer tokens", () => {
		const curve = readJson<{ points: { k: number; sets: Record<string, { tokensPerWord: number }> }[] }>(out("fertility/th.json"));
		const before = curve.points.find((point) => point.k === 0)?.sets["held-out"]?.tokensPerWord ?? 0;
		const after = curve.points.find((point) => point.k === 200)?.sets["held-out"]?.tokensPerWord ?? Number.POSITIVE_INFINITY;
		expect(before).toBeGreaterThan(0);
		expect(after).toBeLessThan(before);
		const report = readJson<{ added: number; vocabSize: number; checks: { ok: boolean }[] }>(out("extend/extension-report.json"));
		expect(report.added).toBe(200);
		expect(report.vocabSize).toBe(128256 + 200 + 3);
		expect(report.checks.every((check) => check.ok)).toBe(true);
	});

	it("runs recovery KD with the fixture and flags its gibberish translations, which the later stages leave out", () => {
		expect(readRecords(out("kd-generate/kd.en.jsonl"))).toHaveLength(4);
		const translated = readRecords<{ flags?: string[] }>(out("kd-translate/th.jsonl"));
		expect(translated).toHaveLength(4);
		for (const record of translated) expect(record.flags).toContain("lang_mismatch_response");
		expect(readRecords(out("kd-translate/th.checked.jsonl"))).toHaveLength(0);
	});

	it("builds CLO pairs and probes with the fixture", () => {
		const rows = readRecords<{ pair_id: string; row: string; chosen: string; rejected: string }>(out("clo/th/pairs.jsonl"));
		expect(rows.length % 2).toBe(0);
		for (let index = 0; index < rows.length; index += 2) {
			const [en, target] = [rows[index], rows[index + 1]];
			expect([en?.row, target?.row]).toEqual(["en", "target"]);
			expect(target?.pair_id).toBe(en?.pair_id);
			expect(target?.chosen).toBe(en?.rejected);
			expect(target?.chosen).toMatch(thai);
		}
		const probe = readJson<{ reports: { lang: string; curves: unknown[]; decision: { lambda: number } }[] }>(out("probe/report.json"));
		expect(probe.reports[0]?.lang).toBe("th");
		expect(probe.reports[0]?.curves).toHaveLength(4);
		const settings = readJson<{ lambda: number; pivot_layer: number }>(out("probe/th/settings.json"));
		expect(settings.lambda).toBe(probe.reports[0]?.decision.lambda);
		expect(readRecords(out("probe/th/target.jsonl"))).toHaveLength(20);
	});

	it.skipIf(!engine.ref)("trains stages 1-3 with TRL on the extended checkpoint, merges, exports and evaluates the trained model", () => {
		for (const [stage, dir] of [["train-target", "1_target_pretraining"], ["train-translation", "2_translation_pretraining"], ["train-transfer", "3_transfer_finetuning"]]) {
			const history = readJson<{ step?: number; loss?: number }[]>(out(`train-plan/checkpoints/trl/${dir}/log_history.json`));
			expect(history.filter((entry) => typeof entry.loss === "number"), stage).toHaveLength(2);
			expect(first.stdout).toMatch(new RegExp(`^${stage}\\s+up to date\\s+steps 2, lossFirst`, "m"));
		}
		// The merged model keeps the extended vocabulary (Llama-3's 128256 + 200 Thai tokens + <EN> <RESPONSE> <TH>).
		expect(readJson<{ vocab_size: number }>(out("train-plan/merged/trl/config.json")).vocab_size).toBe(128459);
		expect(readJson<{ vocab_size: number }>(out("export/model/config.json")).vocab_size).toBe(128459);
		expect(readRecords(out("eval/answers.th.0.jsonl"))).toHaveLength(3);
		expect(readJson<{ results: { answers: number } }>(out("eval/language.th.0.json")).results.answers).toBe(3);
		const forgetting = readJson<{ results: { examples: number; meanBefore: number; meanAfter: number } }>(out("eval/forgetting.json"));
		expect(forgetting.results.examples).toBe(4);
		expect(forgetting.results.meanBefore).toBeGreaterThan(0);
		const html = readFileSync(out("report.html"), "utf8");
		expect(html).toContain("training loss (first → last)");
		expect(html).toContain("Forgetting");
	});

	it.skipIf(!engine.ref || !chromiumPath)("the report with the training and evaluation sections renders in headless Chromium", async () => {
		const page = await checkPage(out("report.html"));
		expect(page.errors).toEqual([]);
		expect(page.brokenImages).toEqual([]);
		expect(page.text).toMatch(/train-transfer\s+done/);
		expect(page.text).toContain("Language fidelity");
	}, 60_000);

	it.skipIf(!engine.ref)("exports the trained checkpoint to ONNX with int8 weights", () => {
		for (const file of ["model.onnx", "model.onnx_data", "config.json", "tokenizer.json"]) expect(existsSync(out(`export/model/${file}`)), file).toBe(true);
		expect(readFileSync(out("export/model/model.onnx")).includes(Buffer.from("MatMulNBits"))).toBe(true);
	});
});
