import { GraphBuilder, makeValueInfo } from "../onnx/graph-builder.js";
import { DataType, type OnnxModel } from "../onnx/onnx-proto.js";
import { copyModelForEdit, onnxOpset } from "./copy-model.js";
import { findDecoderLayers } from "./find-decoder-layers.js";
import { UnsupportedGraphError } from "./unsupported-graph-error.js";

/** Checks the opset the surgeries emit for (Squeeze/Unsqueeze/ReduceSum with axes as inputs). */
export function requireOpset13(model: OnnxModel): void {
	const opset = onnxOpset(model);
	if (opset < 13)
		throw new UnsupportedGraphError(
			`the model imports ai.onnx opset ${opset}; graph surgery needs opset 13 or later (re-export with --opset 14 or newer)`,
		);
}

/**
 * Adds outputs `hidden_states.{i}`: the residual stream after decoder layer i (i = 0..layers-1), float32,
 * [batch, seq, hidden] — or [batch, hidden] at the last position with `positions: "last"` (inputs are left
 * padded, so the last position is the last real token). Layer i here is layer n = i + 1 of PROM's h_n
 * (../shared/papers/003_1fd9d4be5b8f566c.txt, Sec. 2). Returns a new model; the input is not changed.
 */
export function addHiddenStateOutputs(model: OnnxModel, options: { positions?: "all" | "last" } = {}): OnnxModel {
	requireOpset13(model);
	const edited = copyModelForEdit(model);
	const found = findDecoderLayers(edited);
	const b = new GraphBuilder(edited.graph, "/transllm/hidden_states");
	const last = options.positions === "last";
	const lastIndex = last ? b.int64s([-1], "/transllm/hidden_states/last", []) : "";
	found.layerOutputs.forEach((value, i) => {
		const name = `hidden_states.${i}`;
		const source = last ? b.op("Gather", [value, lastIndex], { attributes: { axis: { int: 1 } } }) : value;
		b.op("Cast", [source], {
			name: `/transllm/hidden_states/${i}/Cast`,
			output: b.claim(name),
			attributes: { to: { int: DataType.FLOAT } },
		});
		edited.graph.output!.push(
			makeValueInfo(
				name,
				DataType.FLOAT,
				last ? ["batch_size", "hidden_size"] : ["batch_size", "sequence_length", "hidden_size"],
			),
		);
	});
	return edited;
}
