import { ConfigError, listOption, stringOption } from "@transllm/core";
import type { CliValues, CommandTable } from "@transllm/core";
import { dependencies } from "./dag.js";
import { executeRank, executeStage } from "./execute-stage.js";
import { initPipeline } from "./init-config.js";
import { loadConfig } from "./load-config.js";
import { runPipeline } from "./run-pipeline.js";
import { STAGES } from "./stages/index.js";
import { pipelineStatus, textTable } from "./status.js";

const stageNames = STAGES.map((stage) => stage.name).join(", ");

function stageOf(values: CliValues) {
	const name = stringOption(values, "stage");
	const stage = STAGES.find((s) => s.name === name);
	if (!stage) throw new ConfigError(`--stage ${name}: no such stage; stages: ${stageNames}`);
	return stage;
}

/**
 * A worker started by `run` dies with it: a `run` killed with -9 cannot take its worker processes along, so each
 * watches its parent and stops when it is gone (the rerun then redoes the unfinished ranks).
 */
function followParent(): void {
	const parent = Number(process.env.TRANSLLM_PARENT_PID);
	if (!parent) return;
	setInterval(() => {
		if (process.ppid !== parent) process.exit(137);
	}, 250).unref();
}

/** `transllm init | run | status` and the per-rank entry points the executors start. */
export const pipelineCommands: CommandTable = {
	init: {
		description: "Write <out>/transllm.yaml for a new language: every key with the papers' default and a comment citing its source",
		options: {
			lang: { type: "string", required: true, valueName: "<codes>", description: "Target language(s), comma-separated (th, or th,ar)" },
			"base-model": { type: "string", required: true, valueName: "<dir>", description: "The English chat model directory (ONNX export + tokenizer files)" },
			out: { type: "string", required: true, valueName: "<dir>", description: "Folder of the new transllm.yaml (created)" },
			force: { type: "boolean", description: "Overwrite an existing transllm.yaml" },
		},
		details: "Example: transllm init --lang th --base-model ./Llama-2-7b-chat-hf --out th-run/",
		async run({ values }, { stdout }) {
			const file = await initPipeline({ langs: listOption(values, "lang"), baseModel: stringOption(values, "base-model"), out: stringOption(values, "out"), force: values.force === true });
			stdout.write(`wrote ${file}: set the corpora, KD queries and endpoints, then \`transllm run ${file}\`\n`);
		},
	},
	run: {
		description: "Run every stage of the pipeline that is not up to date (settings, code version and input hashes in the lock file), then write report.html and report.json",
		positionals: [{ name: "config", required: true, description: "transllm.yaml" }],
		options: {
			only: { type: "string", multiple: true, valueName: "<stage>", description: `Run only these stages (repeatable or comma-separated): ${stageNames}` },
			from: { type: "string", valueName: "<stage>", description: "Start at this stage (earlier stages are left as they are)" },
			to: { type: "string", valueName: "<stage>", description: "Stop after this stage" },
			force: { type: "string", multiple: true, valueName: "<stage>", description: "Rerun this stage from scratch even if it is up to date (repeatable; `all` for every stage)" },
			"dry-run": { type: "boolean", description: "Print the plan and why each stage would run; run nothing" },
			"keep-going": { type: "boolean", description: "After a failed stage, still run the stages that do not depend on it" },
			check: { type: "boolean", description: "Only the pre-flight checks (input files, model files, endpoints, API key variables); `run` always does them first" },
			detach: { type: "boolean", description: "executor slurm: submit the jobs and return (`transllm status` shows their states)" },
		},
		details: [
			"Each stage writes into <workdir>/<stage>/ and logs to <workdir>/logs/<stage>.log; the lock file is <workdir>/transllm.lock.json.",
			"A killed run resumes with the same command: finished stages are up to date, an interrupted one continues through its own resume.",
			"Two runs on one work dir: the second refuses, naming the first one's pid and host.",
			"Examples:\n  transllm run th-run/transllm.yaml --dry-run\n  transllm run th-run/transllm.yaml --only clean,fertility\n  transllm run th-run/transllm.yaml --from kd-translate --force kd-translate",
		].join("\n"),
		async run({ values, positionals }, { stdout }) {
			const outcome = await runPipeline(positionals[0] as string, {
				only: listOption(values, "only"),
				from: typeof values.from === "string" ? values.from : undefined,
				to: typeof values.to === "string" ? values.to : undefined,
				force: listOption(values, "force"),
				dryRun: values["dry-run"] === true,
				checkOnly: values.check === true,
				keepGoing: values["keep-going"] === true,
				detach: values.detach === true,
				stdout,
			});
			if (outcome.ran.length === 0 && outcome.ok && !outcome.waiting?.length && !values["dry-run"] && !values.check && !values.detach) stdout.write("every stage is up to date\n");
			return outcome.ok ? 0 : 1;
		},
	},
	status: {
		description: "A table of the pipeline's stages: state (up to date, stale and why, not run, off, Slurm job states), key figures, outputs",
		positionals: [{ name: "config", required: true, description: "transllm.yaml" }],
		options: {
			json: { type: "boolean", description: "Print the rows as JSON" },
		},
		async run({ values, positionals }, { stdout }) {
			const status = await pipelineStatus(positionals[0] as string);
			if (values.json) {
				stdout.write(`${JSON.stringify(status, null, 2)}\n`);
				return;
			}
			if (status.running) stdout.write(`${status.running}\n`);
			stdout.write(`${textTable(["stage", "state", "figures", "outputs"], status.rows.map((r) => [r.stage, r.state, r.figures, r.outputs]))}\n`);
			stdout.write(`work dir: ${status.workdir}; report: ${status.workdir}/report.html\n`);
		},
	},
	"stage-rank": {
		description: "Run one rank of a sharded stage (what `run`'s worker processes and Slurm array tasks execute)",
		positionals: [{ name: "config", required: true, description: "transllm.yaml" }],
		options: {
			stage: { type: "string", required: true, valueName: "<stage>", description: "The sharded stage (clean)" },
			rank: { type: "string", valueName: "<r>", description: "Rank in 0…world_size-1 (default: SLURM_ARRAY_TASK_ID)" },
		},
		async run({ values, positionals }) {
			followParent();
			const config = await loadConfig(positionals[0] as string);
			const stage = stageOf(values);
			const raw = typeof values.rank === "string" ? values.rank : process.env.SLURM_ARRAY_TASK_ID;
			if (raw === undefined || !/^\d+$/.test(raw)) throw new ConfigError("give --rank, or run inside a Slurm array job (SLURM_ARRAY_TASK_ID)");
			await executeRank(config, stage, dependencies(STAGES, config).get(stage.name) ?? [], Number(raw));
		},
	},
	"stage-run": {
		description: "Run (or finish, after its ranks) one stage and record it in the lock file (what a Slurm stage job executes)",
		positionals: [{ name: "config", required: true, description: "transllm.yaml" }],
		options: {
			stage: { type: "string", required: true, valueName: "<stage>", description: `The stage: ${stageNames}` },
			fresh: { type: "boolean", description: "Start the stage over (as --force does)" },
		},
		async run({ values, positionals }, { stdout }) {
			const config = await loadConfig(positionals[0] as string);
			const stage = stageOf(values);
			const record = await executeStage(config, stage, dependencies(STAGES, config).get(stage.name) ?? [], { localRanks: false, fresh: values.fresh === true });
			stdout.write(`${stage.name} done in ${record.seconds} s\n`);
		},
	},
};


