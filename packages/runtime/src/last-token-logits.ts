import { GraphBuilder, makeValueInfo } from "./onnx/index.js";
import type { OnnxModel, OnnxNode } from "./onnx/index.js";
import { copyModelForEdit, findDecoderLayers } from "./graph/index.js";
import { cloneLmHead } from "./graph/clone-lm-head.js";
import { isolatedLmHead } from "./graph/isolated-lm-head.js";

/**
 * The decoder with `logits` [batch, 1, vocab] for the last position only: the final norm and LM head are
 * moved after a Slice of the residual stream, and the all-positions head is removed. Generation only reads
 * the last position, so a prefill no longer computes and copies out [batch, prompt, vocab] floats — for
 * Llama-3's 128k vocabulary that is 0.5 MB per prompt token, and on small models the head is a large part of
 * the prefill's work. Inputs are left-padded, so the last position is every row's last real token.
 * Throws UnsupportedGraphError when the head cannot be isolated (the caller keeps the unedited graph).
 */
export function lastTokenLogits(model: OnnxModel): OnnxModel {
	const edited = copyModelForEdit(model);
	const graph = edited.graph;
	const found = findDecoderLayers(edited);
	const { head } = isolatedLmHead(graph, found);
	const headSet = new Set(head);
	const b = new GraphBuilder(graph, "/transllm/last_token");
	const last = b.op("Slice", [found.finalNormInput, b.int64s([-1], "/transllm/last_token/start"), b.int64s([Number.MAX_SAFE_INTEGER], "/transllm/last_token/end"), b.int64s([1], "/transllm/last_token/axis")]);
	const logits = cloneLmHead(b, graph, { finalNormInput: found.finalNormInput, logits: found.logits, input: last, prefix: "/transllm/last_token" });
	graph.node = (graph.node as OnnxNode[]).filter((_, at) => !headSet.has(at));
	b.op("Identity", [logits], { output: found.logits });
	const declared = graph.output?.findIndex((o) => o.name === found.logits) ?? -1;
	const info = graph.output?.[declared];
	const dims = info?.type?.tensorType?.shape?.dim ?? [];
	const elemType = info?.type?.tensorType?.elemType;
	if (info && graph.output && typeof elemType === "number" && dims.length === 3) {
		const dim = (d: (typeof dims)[number] | undefined): number | string => (d?.dimParam ? d.dimParam : Number(d?.dimValue ?? 0) || "vocab_size");
		graph.output[declared] = makeValueInfo(found.logits, elemType, [dim(dims[0]), 1, dim(dims[2])]);
	}
	return edited;
}
