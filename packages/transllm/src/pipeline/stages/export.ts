import { join, relative } from "node:path";
import { exportModel } from "@transllm/runtime";
import { listFiles } from "../hashing.js";
import type { PipelineConfig } from "../config.js";
import { missingPaths, upstreamOutputs } from "../stage.js";
import type { Stage } from "../stage.js";

/** What export exports: export.checkpoint when given, else the training stages' merged model. */
function checkpointOf(config: PipelineConfig): string | undefined {
	if (config.export.checkpoint) return config.export.checkpoint;
	return config.training.enabled ? join(config.workdir, "train-plan", "merged", config.training.engine) : undefined;
}

/**
 * export: the trained Hugging Face checkpoint (the training stages' merged model, or `export.checkpoint`) to ONNX in
 * the layout @transllm/runtime loads (`exportModel`), for TCOT inference and evaluation (TransLLM Sec. 2.3).
 */
export const exportStage: Stage = {
	name: "export",
	title: "export the trained checkpoint to ONNX",
	paper: "TransLLM Sec. 2.3",
	packages: ["@transllm/runtime"],
	after: ["train-merge"],
	disabled: (config) => (!config.export.enabled ? "export.enabled is false" : checkpointOf(config) === undefined ? "no checkpoint to export: enable training or set export.checkpoint" : undefined),
	settings: (config) => ({ precision: config.export.precision, block_size: config.export.block_size }),
	inputs: (config, upstream) => (config.export.checkpoint ? [config.export.checkpoint] : upstreamOutputs(config.workdir, upstream, "train-merge")),
	check: async (config) => (config.export.checkpoint ? missingPaths(["config.json", "tokenizer.json"].map((file) => join(config.export.checkpoint as string, file)), "export.checkpoint") : []),
	async run(context) {
		const { config } = context;
		const out = join(context.dir, "model");
		const result = await exportModel({ model: checkpointOf(config) as string, out, precision: config.export.precision, blockSize: config.export.block_size, force: true, resume: context.resume, progress: { stream: context.progress } });
		return {
			outputs: (await listFiles(out)).map((name) => relative(context.workdir, join(out, name))),
			figures: { modelType: result.modelType, precision: result.precision, parameters: result.parameters, weightBytes: result.weightBytes },
		};
	},
};
