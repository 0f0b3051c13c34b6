/**
 * Benchmarks of @transllm/clo (run the built dist/: `pnpm build` first, or the root `pnpm bench`):
 *  1. `writeCloDataset` throughput on a UDHR-built corpus (English/Swahili articles), with and without the
 *     language checks, for both export formats;
 *  2. `cloObjective` against a NumPy implementation of Eq. 8–12 (the peer, run in the same process tree) on the
 *     same random log-probabilities: time and the largest difference.
 * Writes bench/results/clo.json.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { writeFileSync, mkdirSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { SeededRng } from "@transllm/core";
import { pythonRef } from "@transllm/python-ref";
import { cloObjective, writeCloDataset } from "@transllm/clo";
import type { CloPairLogprobs } from "@transllm/clo";
import { udhrArticles } from "../test/udhr.js";

const RECORDS = Number(process.env.CLO_BENCH_RECORDS ?? 20_000);
const PAIRS = Number(process.env.CLO_BENCH_PAIRS ?? 1_000_000);

function corpus(n: number): string {
	const en = [...udhrArticles("en").values()];
	const sw = [...udhrArticles("sw").values()];
	const rng = new SeededRng("clo-bench");
	const lines: string[] = [];
	for (let i = 0; i < n; i++) {
		const q = rng.int(en.length);
		const r = rng.int(en.length);
		lines.push(JSON.stringify({ id: `r${i}`, query_en: en[q], response_en: en[r], query_t: sw[q], response_t: sw[r] }));
	}
	return `${lines.join("\n")}\n`;
}

// The machine is shared: the load average at the start and the end says how loaded the run was.
const loadAverageAtStart = loadavg();
const dir = await mkdtemp(join(tmpdir(), "clo-bench-"));
const input = join(dir, "kd.jsonl");
await writeFile(input, corpus(RECORDS));
const pairs: Record<string, unknown>[] = [];
for (const [format, check] of [["trl", true], ["llamafactory", true], ["trl", false]] as const) {
	const start = performance.now();
	const cpuStart = process.cpuUsage();
	const summary = await writeCloDataset({ input, lang: "sw", out: join(dir, `${format}-${check}`), format, languageCheck: check, perDeviceBatchSize: 8, devices: 8, progress: { silent: true } });
	const seconds = (performance.now() - start) / 1000;
	const cpu = process.cpuUsage(cpuStart);
	const cpuSeconds = (cpu.user + cpu.system) / 1e6;
	pairs.push({ format, languageCheck: check, records: summary.records, seconds: Number(seconds.toFixed(2)), recordsPerSecond: Math.round(summary.records / seconds), cpuSeconds: Number(cpuSeconds.toFixed(2)), recordsPerCpuSecond: Math.round(summary.records / cpuSeconds), loadAverage: loadavg()[0] });
	console.log(pairs.at(-1));
}

// Random but valid log-probabilities (negative sums, realistic sizes).
const rng = new SeededRng("clo-objective");
const columns = Array.from({ length: 8 }, () => Float64Array.from({ length: PAIRS }, () => -rng.float() * 400));
const tokens = Float64Array.from({ length: PAIRS }, () => 1 + rng.int(300));
const batch: CloPairLogprobs[] = [];
for (let i = 0; i < PAIRS; i++) {
	const c = (k: number) => ({ sum: (columns[k] as Float64Array)[i] as number, tokens: tokens[i] as number });
	batch.push({ policy: { enGivenEn: c(0), targetGivenEn: c(1), targetGivenTarget: c(2), enGivenTarget: c(3) }, reference: { enGivenEn: c(4), targetGivenEn: c(5), targetGivenTarget: c(6), enGivenTarget: c(7) } });
}
// Best of ROUNDS for ours and each peer: on a shared machine, other work only ever adds time.
const ROUNDS = 3;
let ours = cloObjective(batch);
let oursMs = Number.POSITIVE_INFINITY;
for (let round = 0; round < ROUNDS; round++) {
	const start = performance.now();
	ours = cloObjective(batch);
	oursMs = Math.min(oursMs, performance.now() - start);
}
const binary = join(dir, "columns.bin");
const packed = new Float64Array(9 * PAIRS);
columns.forEach((column, k) => packed.set(column, k * PAIRS));
packed.set(tokens, 8 * PAIRS);
await writeFile(binary, Buffer.from(packed.buffer));
const numpy = `
import sys, time, json, numpy as np
n = ${PAIRS}
a = np.fromfile(sys.argv[1], dtype=np.float64).reshape(9, n)
ms = float("inf")
for _ in range(${ROUNDS}):
    t0 = time.perf_counter()
    pen, pten, ptt, pent, ren, rten, rtt, rent, tok = a
    z_en = 0.1 * ((pen - ren) - (pten - rten))
    z_t = 0.1 * ((ptt - rtt) - (pent - rent))
    l_cl = -np.mean(-np.logaddexp(0, -z_en) - np.logaddexp(0, -z_t))
    l_sft = np.mean(-ptt / tok)
    l_clo = 0.5 * l_sft + 0.5 * l_cl
    ms = min(ms, (time.perf_counter() - t0) * 1000)
print(json.dumps({"ms": ms, "lClo": l_clo, "lCl": l_cl, "lSft": l_sft, "numpy": np.__version__}))
`;
let peer: { ms: number; lClo: number; lCl: number; lSft: number; numpy: string } | { error: string };
try {
	peer = JSON.parse(execFileSync("python3", ["-c", numpy, binary], { encoding: "utf8" }));
} catch (error) {
	peer = { error: `NumPy peer could not run: ${(error as Error).message.split("\n")[0]}` };
}
const objective = {
	pairs: PAIRS,
	rounds: ROUNDS,
	transllmMs: Number(oursMs.toFixed(1)),
	peer: "numpy" in peer ? { name: `NumPy ${peer.numpy}`, ms: Number(peer.ms.toFixed(1)) } : peer,
	lClo: ours.lClo,
	absoluteDifference: "numpy" in peer ? Math.max(Math.abs(ours.lClo - peer.lClo), Math.abs(ours.lCl - peer.lCl), Math.abs(ours.lSft - peer.lSft)) : undefined,
};
// The exact-loss recipe shipped with every export (recipes/clo_trainer.py), on the same numbers, where PyTorch runs.
const recipe = `
import sys, time, json, torch
sys.path.insert(0, sys.argv[2])
from clo_trainer import clo_loss
n = ${PAIRS}
a = torch.from_numpy(__import__("numpy").fromfile(sys.argv[1], dtype="float64").reshape(9, n))
pen, pten, ptt, pent, ren, rten, rtt, rent, tok = a
rows = lambda en, t: torch.stack([en, t], dim=1).reshape(-1)  # row 2i English, row 2i+1 target
ms = float("inf")
for _ in range(${ROUNDS}):
    t0 = time.perf_counter()
    loss, l_sft, l_cl, z_en, z_t = clo_loss(rows(pen, ptt), rows(pten, pent), rows(ren, rtt), rows(rten, rent), rows(torch.zeros(n, dtype=torch.float64), -ptt / tok))
    ms = min(ms, (time.perf_counter() - t0) * 1000)
print(json.dumps({"ms": ms, "lClo": loss.item(), "torch": torch.__version__}))
`;
let torchRecipe: Record<string, unknown> = { error: `no python3 with PyTorch found (${pythonRef(["torch", "numpy"]).reason}; or apt-get install python3-torch)` };
// The repository's Python reference (.venv, scripts/setup-python.sh) first, then Debian's python3-torch.
const venvPython = pythonRef(["torch", "numpy"]).ref?.python;
for (const python of [...(venvPython ? [venvPython] : []), "python3", "/usr/bin/python3"]) {
	try {
		const result = JSON.parse(execFileSync(python, ["-c", recipe, binary, new URL("../recipes/", import.meta.url).pathname], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as { ms: number; lClo: number; torch: string };
		torchRecipe = { name: `recipes/clo_trainer.py clo_loss, PyTorch ${result.torch} (CPU)`, ms: Number(result.ms.toFixed(1)), absoluteDifference: Math.abs(result.lClo - ours.lClo) };
		break;
	} catch {
		// try the next interpreter
	}
}
Object.assign(objective, { torchRecipe });
console.log(objective);
await rm(dir, { recursive: true, force: true });
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/clo.json", import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverageAtStart, loadAverageAtEnd: loadavg(), pairs, objective }, null, 2)}\n`);
