import { ConfigError, numberOption, stringOption } from "@transllm/core";
import type { CommandTable } from "@transllm/core";
import { DEFAULT_ACCURACY_LEVEL, DEFAULT_QUANTIZATION_BLOCK_SIZE, EXPORT_PRECISIONS, type ExportPrecision, exportModel } from "./export-model.js";
import { EXPORT_ARCHITECTURES } from "./hf-architecture.js";

/** `transllm export`: a trained Hugging Face checkpoint back into ONNX for the runtime. */
export const exportCommands: CommandTable = {
	export: {
		description: `Export a Hugging Face checkpoint (safetensors; ${Object.values(EXPORT_ARCHITECTURES).join(", ")}) to ONNX for the runtime, tensor by tensor`,
		options: {
			model: { type: "string", required: true, valueName: "<hf dir>", description: "Hugging Face model directory: config.json, model.safetensors or sharded model-*.safetensors (+ index), tokenizer files" },
			out: { type: "string", required: true, valueName: "<onnx dir>", description: "Output directory: model.onnx + model.onnx_data + the tokenizer and config files (written as <out>.partial, renamed when complete)" },
			precision: { type: "string", default: "fp32", valueName: EXPORT_PRECISIONS.join("|"), description: "fp32; fp16 (bf16 weights converted; fp16 KV cache and logits); int8/int4: weight-only MatMulNBits, fp32 activations" },
			"block-size": { type: "string", default: String(DEFAULT_QUANTIZATION_BLOCK_SIZE), valueName: "<n>", description: "int8/int4 quantization block along the input dimension (onnxruntime-genai's default 32)" },
			"accuracy-level": { type: "string", default: String(DEFAULT_ACCURACY_LEVEL), valueName: "1|2|3|4", description: "int8/int4 MatMulNBits accuracy_level: 4 = int8 activations (fast CPU kernels), 1 = fp32 activations (exact dequantized weights)" },
			force: { type: "boolean", description: "Replace an existing --out" },
			resume: { type: "boolean", description: "Continue an export that was killed: the weights already written to <out>.partial are kept (same settings required)" },
			quiet: { type: "boolean", description: "No progress on stderr" },
		},
		details: [
			"The graph has Optimum's text-generation-with-past I/O (input_ids, attention_mask, position_ids, past_key_values.{i}.key|value",
			"→ logits, present.{i}.key|value), which `transllm generate`/`score` and the runtime load. Peak memory is about the largest tensor.",
			"Example: transllm export --model ./merged-llama-2-7b-chat --out ./llama-2-7b-chat-onnx --precision int4",
		].join("\n"),
		async run({ values }, context) {
			const precision = stringOption(values, "precision");
			if (!EXPORT_PRECISIONS.includes(precision as ExportPrecision))
				throw new ConfigError(`--precision must be one of ${EXPORT_PRECISIONS.join(", ")}, got "${precision}"`);
			const result = await exportModel({
				model: stringOption(values, "model"),
				out: stringOption(values, "out"),
				precision: precision as ExportPrecision,
				blockSize: numberOption(values, "block-size", DEFAULT_QUANTIZATION_BLOCK_SIZE, { min: 16, integer: true }),
				accuracyLevel: numberOption(values, "accuracy-level", DEFAULT_ACCURACY_LEVEL, { min: 0, max: 4, integer: true }),
				force: Boolean(values.force),
				resume: Boolean(values.resume),
				progress: values.quiet ? false : { stream: context.stderr },
			});
			context.stdout.write(`${JSON.stringify(result)}\n`);
		},
	},
};
