import { GraphBuilder, makeValueInfo } from "../onnx/graph-builder.js";
import type { OnnxModel, OnnxNode } from "../onnx/onnx-proto.js";
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
	const renames = new Map<string, string>();
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
		const fresh = node.input[1] as string;
		const step = b.claim(name.replace(/^present\./, "present_step."));
		// The new keys/values themselves become the output (renamed where they are made and read): no copy node.
		if (index.producer.has(fresh) && !graph.output!.some((o) => o.name === fresh) && !readInSubgraph(graph.node ?? [], fresh)) renames.set(fresh, step);
		else b.op("Identity", [fresh], { output: step });
		const elemType = present.type?.tensorType?.elemType;
		graph.output!.push(makeValueInfo(step, typeof elemType === "number" ? elemType : 1));
	}
	const renamed = (value: string): string => renames.get(value) ?? value;
	graph.node = (graph.node ?? []).map((n) => (n.input?.some((v) => renames.has(v)) || n.output?.some((v) => renames.has(v)) ? { ...n, input: n.input?.map(renamed), output: n.output?.map(renamed) } : n));
	graph.valueInfo = (graph.valueInfo ?? []).map((v) => (renames.has(v.name ?? "") ? { ...v, name: renamed(v.name ?? "") } : v));
	return edited;
}

/** Whether a subgraph (If/Loop/Scan body) of these nodes reads `value` from the outer scope. */
function readInSubgraph(nodes: readonly OnnxNode[], value: string): boolean {
	return nodes.some((n) => (n.attribute ?? []).some((a) => [a.g, ...(a.graphs ?? [])].some((g) => g && ((g.node ?? []).some((m) => m.input?.includes(value)) || readInSubgraph(g.node ?? [], value)))));
}
