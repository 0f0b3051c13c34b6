import { GraphBuilder, makeValueInfo } from "../onnx/graph-builder.js";
import { DataType, type OnnxModel } from "../onnx/onnx-proto.js";
import { copyModelForEdit } from "./copy-model.js";
import { requireOpset13 } from "./add-hidden-state-outputs.js";
import { UnsupportedGraphError } from "./unsupported-graph-error.js";

/**
 * Adds in-graph scoring: an input `target_ids` [batch, seq] int64 and an output `token_logprobs` [batch, seq]
 * float32 with token_logprobs[b, s] = log_softmax(logits[b, s])[target_ids[b, s]], so only one number per
 * position leaves the device instead of the vocabulary. For log P(y|x) (the forgetting metric,
 * ../shared/papers/000_1ce36f3811662daf.txt Table 8) set target_ids[b, s] = input_ids[b, s + 1]; the last
 * position's target is ignored (any id). `logits` is dropped from the outputs unless `keepLogits`.
 * Returns a new model; the input is not changed.
 */
export function addScoringOutputs(model: OnnxModel, options: { keepLogits?: boolean } = {}): OnnxModel {
	requireOpset13(model);
	const edited = copyModelForEdit(model);
	const graph = edited.graph;
	if (!graph.output!.some((o) => o.name === "logits")) throw new UnsupportedGraphError('no "logits" output to score');
	const b = new GraphBuilder(graph, "/transllm/scoring");
	graph.input!.push(makeValueInfo(b.claim("target_ids"), DataType.INT64, ["batch_size", "sequence_length"]));
	const logits = b.op("Cast", ["logits"], { attributes: { to: { int: DataType.FLOAT } } });
	const logprobs = b.op("LogSoftmax", [logits], { attributes: { axis: { int: -1 } } });
	const lastAxis = b.int64s([-1], "/transllm/scoring/axes_last");
	const targets = b.op("Unsqueeze", ["target_ids", lastAxis]);
	const gathered = b.op("GatherElements", [logprobs, targets], { attributes: { axis: { int: -1 } } });
	b.op("Squeeze", [gathered, lastAxis], { output: b.claim("token_logprobs") });
	graph.output!.push(makeValueInfo("token_logprobs", DataType.FLOAT, ["batch_size", "sequence_length"]));
	if (!options.keepLogits) edited.graph.output = graph.output!.filter((o) => o.name !== "logits");
	return edited;
}
