// The Python reference environment for tests and benchmarks: the repo's .venv (scripts/setup-python.sh) or
// $TRANSLLM_PYTHON. A test that needs it calls `pythonRef(["torch", "trl"])` and skips with `reason` when null.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export interface PythonRef {
	/** The interpreter to run. */
	python: string;
	/** Runs `python -c code` or `python file args…` and returns the finished process; throws with stderr on failure. */
	run(args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): SpawnSyncReturns<string>;
}

export interface PythonRefStatus {
	ref: PythonRef | null;
	/** Why `ref` is null: which interpreter was tried and which modules were missing. */
	reason: string;
}

const cache = new Map<string, PythonRefStatus>();

/** The reference interpreter if it imports every module in `modules`; otherwise null and the reason. */
export function pythonRef(modules: string[] = []): PythonRefStatus {
	const key = modules.join(",");
	const hit = cache.get(key);
	if (hit) return hit;
	const python = process.env.TRANSLLM_PYTHON ?? join(repoRoot, ".venv", "bin", "python");
	let status: PythonRefStatus;
	if (!existsSync(python)) {
		status = { ref: null, reason: `no Python reference at ${python}: run scripts/setup-python.sh (or set TRANSLLM_PYTHON)` };
	} else {
		const probe = spawnSync(python, ["-c", `import importlib.util,sys\nmissing=[m for m in ${JSON.stringify(modules)} if importlib.util.find_spec(m) is None]\nprint(",".join(missing))`], { encoding: "utf8" });
		const missing = probe.status === 0 ? probe.stdout.trim() : `interpreter failed: ${probe.stderr.trim()}`;
		status = missing
			? { ref: null, reason: `Python reference ${python} lacks ${missing}: run scripts/setup-python.sh` }
			: { ref: makeRef(python), reason: "" };
	}
	cache.set(key, status);
	return status;
}

function makeRef(python: string): PythonRef {
	return {
		python,
		run(args, options = {}) {
			const result = spawnSync(python, args, {
				cwd: options.cwd,
				env: { ...process.env, PYTHONUNBUFFERED: "1", TOKENIZERS_PARALLELISM: "false", ...options.env },
				input: options.input,
				encoding: "utf8",
				timeout: options.timeoutMs ?? 600_000,
				maxBuffer: 256 * 1024 * 1024,
			});
			if (result.status !== 0) {
				throw new Error(`${python} ${args.join(" ")} exited ${result.status ?? result.signal}:\n${result.stderr}`);
			}
			return result;
		},
	};
}
