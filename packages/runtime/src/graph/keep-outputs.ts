import type { OnnxModel } from "../onnx/onnx-proto.js";
import { copyModelForEdit } from "./copy-model.js";
import { UnsupportedGraphError } from "./unsupported-graph-error.js";

/**
 * Keeps only the named graph outputs, in that order. A session then copies nothing else to the host: e.g.
 * a scoring session that never continues decoding can drop the `present.*` KV cache, which otherwise leaves
 * the GPU on every run. Returns a new model; the input is not changed.
 */
export function keepOutputs(model: OnnxModel, names: readonly string[]): OnnxModel {
	const edited = copyModelForEdit(model);
	const byName = new Map(edited.graph.output!.map((o) => [o.name ?? "", o]));
	edited.graph.output = names.map((name) => {
		const output = byName.get(name);
		if (!output)
			throw new UnsupportedGraphError(`no graph output "${name}" (outputs: ${[...byName.keys()].join(", ")})`);
		return output;
	});
	return edited;
}
