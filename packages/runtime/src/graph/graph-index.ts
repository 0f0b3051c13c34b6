import type { OnnxGraph, OnnxNode } from "../onnx/onnx-proto.js";

/** Who produces and who consumes each value of a graph (node indices in topological order). */
export interface GraphIndex {
	producer: Map<string, number>;
	consumers: Map<string, number[]>;
	initializers: Set<string>;
	inputs: Set<string>;
	outputs: Set<string>;
}

/** Indexes a graph's values; ONNX requires nodes in topological order, so indices order computations. */
export function indexGraph(graph: OnnxGraph): GraphIndex {
	const producer = new Map<string, number>();
	const consumers = new Map<string, number[]>();
	(graph.node ?? []).forEach((node, index) => {
		for (const output of node.output ?? []) if (output) producer.set(output, index);
		for (const input of node.input ?? []) {
			if (!input) continue;
			const list = consumers.get(input);
			if (list) list.push(index);
			else consumers.set(input, [index]);
		}
	});
	return {
		producer,
		consumers,
		initializers: new Set((graph.initializer ?? []).map((t) => t.name ?? "")),
		inputs: new Set((graph.input ?? []).map((v) => v.name ?? "")),
		outputs: new Set((graph.output ?? []).map((v) => v.name ?? "")),
	};
}

/** The node producing a value, if any. */
export function producerOf(graph: OnnxGraph, index: GraphIndex, value: string): OnnxNode | undefined {
	const at = index.producer.get(value);
	return at === undefined ? undefined : graph.node?.[at];
}

/** Indices of the nodes a value depends on (its ancestors), stopping at graph inputs and initializers. */
export function ancestors(graph: OnnxGraph, index: GraphIndex, values: readonly string[]): Set<number> {
	const seen = new Set<number>();
	const stack = [...values];
	while (stack.length > 0) {
		const at = index.producer.get(stack.pop() as string);
		if (at === undefined || seen.has(at)) continue;
		seen.add(at);
		for (const input of graph.node?.[at]?.input ?? []) if (input) stack.push(input);
	}
	return seen;
}

/** Indices of the nodes that depend on a value (its descendants). */
export function descendants(graph: OnnxGraph, index: GraphIndex, value: string): Set<number> {
	const seen = new Set<number>();
	const stack = [value];
	while (stack.length > 0) {
		for (const at of index.consumers.get(stack.pop() as string) ?? []) {
			if (seen.has(at)) continue;
			seen.add(at);
			for (const output of graph.node?.[at]?.output ?? []) if (output) stack.push(output);
		}
	}
	return seen;
}
