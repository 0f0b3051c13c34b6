import { join, relative } from "node:path";
import { exportModel } from "@transllm/runtime";
import { listFiles } from "../hashing.js";
import { missingPaths } from "../stage.js";
import type { Stage } from "../stage.js";

/**
 * export: a trained Hugging Face checkpoint to ONNX in the layout @transllm/runtime loads (`exportModel`), for TCOT
 * inference and evaluation (TransLLM Sec. 2.3). Its input is `export.checkpoint`: this version has no training
 * stage whose output it could take.
 */
export const exportStage: Stage = {
	name: "export",
	title: "export the trained checkpoint to ONNX",
	paper: "TransLLM Sec. 2.3",
	packages: ["@transllm/runtime"],
	after: [],
	disabled: (config) => (!config.export.enabled ? "export.enabled is false" : config.export.checkpoint === undefined ? "no export.checkpoint (a trained checkpoint to export)" : undefined),
	settings: (config) => ({ precision: config.export.precision, block_size: config.export.block_size }),
	inputs: (config) => (config.export.checkpoint ? [config.export.checkpoint] : []),
	check: async (config) => (config.export.checkpoint ? missingPaths(["config.json", "tokenizer.json"].map((file) => join(config.export.checkpoint as string, file)), "export.checkpoint") : []),
	async run(context) {
		const { config } = context;
		const out = join(context.dir, "model");
		const result = await exportModel({ model: config.export.checkpoint as string, out, precision: config.export.precision, blockSize: config.export.block_size, force: true, progress: { stream: context.progress } });
		return {
			outputs: (await listFiles(out)).map((name) => relative(context.workdir, join(out, name))),
			figures: { modelType: result.modelType, precision: result.precision, parameters: result.parameters, weightBytes: result.weightBytes },
		};
	},
};
