import { GraphBuilder, makeValueInfo } from "../onnx/graph-builder.js";
import { DataType, type OnnxModel, toInt } from "../onnx/onnx-proto.js";
import { copyModelForEdit } from "./copy-model.js";
import { requireOpset13 } from "./add-hidden-state-outputs.js";
import { cloneLmHead } from "./clone-lm-head.js";
import { findDecoderLayers } from "./find-decoder-layers.js";

/**
 * Adds the logit lens in the graph (Wendler et al. 2024, as PROM uses it: "forwarding h_n through the LM head",
 * ../shared/papers/003_1fd9d4be5b8f566c.txt Sec. 2-3): for every decoder layer, the residual stream at the last
 * position (the last real token: inputs are left padded) goes through the model's own final norm and LM head,
 * then a softmax over the vocabulary.
 *
 * Input `lens_token_sets` [vocab, sets] float32 is a 0/1 mask of token sets (e.g. the English and the target
 * language version of the next token). Outputs `lens_probs` [batch, layers, sets] = the probability mass of
 * each set per layer, and `lens_entropy` [batch, layers] = the entropy (nats) of each layer's distribution.
 * Layer i is PROM's n = i + 1. Returns a new model; the input is not changed.
 */
export function addLogitLensOutputs(model: OnnxModel): OnnxModel {
	requireOpset13(model);
	const edited = copyModelForEdit(model);
	const graph = edited.graph;
	const found = findDecoderLayers(edited);
	const b = new GraphBuilder(graph, "/transllm/logit_lens");
	const logitsInfo = graph.output!.find((o) => o.name === found.logits);
	const vocabDim = logitsInfo?.type?.tensorType?.shape?.dim?.[2];
	const vocab = vocabDim?.dimValue ? toInt(vocabDim.dimValue) : "vocab_size";
	graph.input!.push(makeValueInfo(b.claim("lens_token_sets"), DataType.FLOAT, [vocab, "num_token_sets"]));
	const lastIndex = b.int64s([-1], "/transllm/logit_lens/last", []);
	const axis1 = b.int64s([1], "/transllm/logit_lens/axes_1");
	const perLayer = found.layerOutputs.map((value) =>
		b.op("Unsqueeze", [b.op("Gather", [value, lastIndex], { attributes: { axis: { int: 1 } } }), axis1]),
	);
	const stacked =
		perLayer.length === 1 ? (perLayer[0] as string) : b.op("Concat", perLayer, { attributes: { axis: { int: 1 } } }); // [batch, layers, hidden]
	let lensLogits: string;
	if (found.finalSkipNorm) {
		// A fused final norm: apply its RMSNorm (same gamma and epsilon), then the rest of the path to the logits.
		const { normalized, gamma, epsilon } = found.finalSkipNorm;
		const normed = b.op("SimplifiedLayerNormalization", [stacked, gamma], {
			attributes: { axis: { int: -1 }, epsilon: { float: epsilon }, stash_type: { int: 1 } },
		});
		lensLogits = cloneLmHead(b, graph, {
			finalNormInput: normalized,
			logits: found.logits,
			input: normed,
			prefix: "/transllm/logit_lens",
		});
	} else {
		lensLogits = cloneLmHead(b, graph, {
			finalNormInput: found.finalNormInput,
			logits: found.logits,
			input: stacked,
			prefix: "/transllm/logit_lens",
		});
	}
	const logits = b.op("Cast", [lensLogits], { attributes: { to: { int: DataType.FLOAT } } });
	const probs = b.op("Softmax", [logits], { attributes: { axis: { int: -1 } } });
	const logprobs = b.op("LogSoftmax", [logits], { attributes: { axis: { int: -1 } } });
	b.op("MatMul", [probs, "lens_token_sets"], { output: b.claim("lens_probs") });
	const lastAxis = b.int64s([-1], "/transllm/logit_lens/axes_last");
	const plogp = b.op("ReduceSum", [b.op("Mul", [probs, logprobs]), lastAxis], { attributes: { keepdims: { int: 0 } } });
	b.op("Neg", [plogp], { output: b.claim("lens_entropy") });
	graph.output!.push(makeValueInfo("lens_probs", DataType.FLOAT, ["batch_size", found.layers, "num_token_sets"]));
	graph.output!.push(makeValueInfo("lens_entropy", DataType.FLOAT, ["batch_size", found.layers]));
	return edited;
}
