import type { OnnxGraph } from "../onnx/onnx-proto.js";
import type { DecoderLayers } from "./find-decoder-layers.js";
import { ancestors, descendants, indexGraph } from "./graph-index.js";
import type { GraphIndex } from "./graph-index.js";
import { UnsupportedGraphError } from "./unsupported-graph-error.js";

/**
 * The nodes of the final norm and LM head (every node on a path from the final norm's input to `logits`), when
 * nothing else uses their values — the precondition of moving or sharing the head. Throws UnsupportedGraphError
 * for a final norm fused into the last layer or a head value used elsewhere.
 */
export function isolatedLmHead(graph: OnnxGraph, found: DecoderLayers): { index: GraphIndex; head: number[] } {
	// A fused SkipSimplifiedLayerNormalization computes the final norm in the last layer's node: no head to isolate.
	if (found.finalSkipNorm) throw new UnsupportedGraphError("the final norm is fused into the last layer (SkipSimplifiedLayerNormalization)");
	const index = indexGraph(graph);
	const head = [...ancestors(graph, index, [found.logits])].filter((at) => descendants(graph, index, found.finalNormInput).has(at));
	const headSet = new Set(head);
	for (const at of head) {
		for (const output of graph.node?.[at]?.output ?? []) {
			const outside = (index.consumers.get(output) ?? []).some((consumer) => !headSet.has(consumer));
			const isOtherOutput = output !== found.logits && (graph.output ?? []).some((o) => o.name === output);
			if (outside || isOtherOutput) throw new UnsupportedGraphError(`the LM head's value ${output} is also used elsewhere`);
		}
	}
	return { index, head };
}
