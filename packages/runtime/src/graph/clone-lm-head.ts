import type { GraphBuilder } from "../onnx/graph-builder.js";
import type { OnnxGraph, OnnxNode } from "../onnx/onnx-proto.js";
import { ancestors, descendants, indexGraph } from "./graph-index.js";
import { UnsupportedGraphError } from "./unsupported-graph-error.js";

/** Ops that act on each position alone, so the copied head may run on [batch, layers, hidden] instead of [batch, seq, hidden]. */
const POSITIONWISE = new Set([
	"Pow",
	"ReduceMean",
	"Add",
	"Sub",
	"Mul",
	"Div",
	"Sqrt",
	"Reciprocal",
	"Neg",
	"Cast",
	"Identity",
	"MatMul",
	"MatMulNBits",
	"Tanh",
	"SimplifiedLayerNormalization",
	"SkipSimplifiedLayerNormalization",
	"RMSNormalization",
	"LayerNormalization",
]);

/**
 * Applies the model's own final norm and LM head to another residual-stream value: the nodes on every path
 * from `finalNormInput` to `logits` are copied with `input` in place of `finalNormInput` (weights, eps and a
 * tied embedding's transpose are shared, not copied). Whatever the export did there (decomposed or fused
 * RMSNorm, Casts of an fp16 model, a logit soft-cap) is reproduced as is. Returns the copied logits value.
 */
export function cloneLmHead(
	builder: GraphBuilder,
	graph: OnnxGraph,
	params: { finalNormInput: string; logits: string; input: string; prefix: string },
): string {
	const index = indexGraph(graph);
	const onPath = ancestors(graph, index, [params.logits]);
	const below = descendants(graph, index, params.finalNormInput);
	const nodes = [...onPath].filter((at) => below.has(at)).sort((a, b) => a - b);
	if (nodes.length === 0)
		throw new UnsupportedGraphError(`no path from the final norm input ${params.finalNormInput} to ${params.logits}`);
	for (const at of nodes) {
		const op = graph.node?.[at]?.opType ?? "";
		if (!POSITIONWISE.has(op)) {
			throw new UnsupportedGraphError(
				`the path from the final norm to ${params.logits} has a ${op} node (${graph.node?.[at]?.name ?? ""}); ` +
					"the logit lens copies only position-wise ops (norm, Cast, MatMul), e.g. not a last-position slice",
			);
		}
	}
	const renamed = new Map<string, string>([[params.finalNormInput, params.input]]);
	for (const at of nodes) {
		const node = graph.node?.[at] as OnnxNode;
		const outputs = (node.output ?? []).map((o) => (o ? builder.unique(`${params.prefix}${o}`) : ""));
		(node.output ?? []).forEach((o, k) => o && renamed.set(o, outputs[k] as string));
		const copy: OnnxNode = {
			...node,
			name: builder.unique(`${params.prefix}${node.name ?? node.opType ?? "node"}`),
			input: (node.input ?? []).map((i) => renamed.get(i) ?? i),
			output: outputs,
		};
		(graph.node as OnnxNode[]).push(copy);
	}
	const result = renamed.get(params.logits);
	if (!result) throw new UnsupportedGraphError(`${params.logits} is not computed from ${params.finalNormInput}`);
	return result;
}
