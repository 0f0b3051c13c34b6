import { GraphBuilder, makeValueInfo } from "../onnx/graph-builder.js";
import type { OnnxModel } from "../onnx/onnx-proto.js";
import { toInt } from "../onnx/onnx-proto.js";
import { copyModelForEdit } from "./copy-model.js";
import { indexGraph, producerOf } from "./graph-index.js";
import { UnsupportedGraphError } from "./unsupported-graph-error.js";

/**
 * Adds outputs `present_step.{i}.key|value`: the keys and values of this run's positions only, i.e. the second
 * input of the Concat(past_key_values.{i}.*, new, axis 2) that produces `present.{i}.*` in Optimum-style exports.
 * A host decode loop that keeps the cache itself then fetches these instead of the whole `present.*`
 * (onnxruntime-node copies every fetched output into a new ArrayBuffer). Throws UnsupportedGraphError when a
 * present output is not such a Concat (e.g. a fused attention op). Returns a new model.
 */
export function addStepCacheOutputs(model: OnnxModel): OnnxModel {
	const edited = copyModelForEdit(model);
	const graph = edited.graph;
	const index = indexGraph(graph);
	const b = new GraphBuilder(graph, "/transllm/step_cache");
	const presents = (graph.output ?? []).filter((o) => /^present\.\d+\.(key|value)$/.test(o.name ?? ""));
	if (presents.length === 0) throw new UnsupportedGraphError("the graph has no present.* outputs");
	for (const present of presents) {
		const name = present.name as string;
		const node = producerOf(graph, index, name);
		const past = name.replace(/^present\./, "past_key_values.");
		const axis = node?.attribute?.find((a) => a.name === "axis")?.i;
		const rank = present.type?.tensorType?.shape?.dim?.length ?? 4;
		const axisValue = axis === undefined || axis === null ? undefined : toInt(axis);
		if (node?.opType !== "Concat" || node.input?.length !== 2 || node.input[0] !== past || (axisValue !== 2 && axisValue !== 2 - rank)) {
			throw new UnsupportedGraphError(`${name} is not Concat(${past}, new keys/values) along the sequence axis`);
		}
		const step = b.op("Identity", [node.input[1] as string], { output: b.claim(name.replace(/^present\./, "present_step.")) });
		const elemType = present.type?.tensorType?.elemType;
		graph.output!.push(makeValueInfo(step, typeof elemType === "number" ? elemType : 1));
	}
	return edited;
}
