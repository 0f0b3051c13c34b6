import type { OnnxModel } from "../onnx/onnx-proto.js";

/**
 * A copy of a model whose graph lists (nodes, initializers, inputs, outputs) are new arrays, sharing the
 * node and tensor objects: surgeries append to the copy and leave the caller's model as it was, without
 * copying weights.
 */
export function copyModelForEdit(model: OnnxModel): OnnxModel & { graph: NonNullable<OnnxModel["graph"]> } {
	const graph = model.graph ?? {};
	return {
		...model,
		graph: {
			...graph,
			node: [...(graph.node ?? [])],
			initializer: [...(graph.initializer ?? [])],
			input: [...(graph.input ?? [])],
			output: [...(graph.output ?? [])],
			valueInfo: [...(graph.valueInfo ?? [])],
		},
	};
}

/** The ai.onnx opset a model imports (the surgeries need 13 or later: Squeeze/Unsqueeze/ReduceSum take axes as inputs). */
export function onnxOpset(model: OnnxModel): number {
	const entry = (model.opsetImport ?? []).find((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx");
	return Number(entry?.version ?? 0);
}
