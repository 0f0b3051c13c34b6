import { DataType, GraphBuilder, makeTensor, makeValueInfo, toInt } from "./onnx/index.js";
import type { OnnxGraph, OnnxModel, OnnxNode } from "./onnx/index.js";
import { copyModelForEdit, findDecoderLayers, onnxOpset } from "./graph/index.js";
import { requireOpset13 } from "./graph/add-hidden-state-outputs.js";
import { cloneLmHead } from "./graph/clone-lm-head.js";
import { isolatedLmHead } from "./graph/isolated-lm-head.js";

/** Inputs a shared decoder adds; empty tensors ([batch, 0] and [vocab, 0]) leave their heads idle. */
export const SHARED_DECODER_INPUTS = { targetIds: "target_ids", lensTokenSets: "lens_token_sets" } as const;

/**
 * One graph for generation, scoring, hidden states and the logit lens, so that one onnxruntime session — one
 * copy of the weights, including the MatMul kernels' pre-packed copies, which onnxruntime makes per session
 * and per node — serves them all. Every capability shares the decoder's layers and a single final norm + LM
 * head node chain, applied to the rows each run asks for:
 *
 * - `target_ids` [batch, T] int64 (T = 0 when not scoring): `logits` [batch, 1, vocab] of the last position (as
 *   `lastTokenLogits`), and `token_logprobs` [batch, T] = log_softmax(logits of the last T positions)[target_ids]
 *   (as addScoringOutputs; the head runs on the last max(T, 1) positions). A run scores or probes the lens, not both.
 * - `lens_token_sets` [vocab, sets] float32 (sets = 0 when not probing): `lens_probs` [batch, layers', sets] and
 *   `lens_entropy` [batch, layers'] of every layer's last-position residual through the final norm and LM head
 *   (as addLogitLensOutputs; layers' = layers when sets > 0, else 0, so an idle lens costs nothing).
 * - `greedy_token_ids` [batch, 1] int64: the argmax of the last position's logits (greedy search's next token).
 * - `hidden_states.{i}` [batch, hidden] float32: the residual stream after layer i at the last position (as
 *   addHiddenStateOutputs with positions "last"; a gather of one row per layer, computed on every run).
 *
 * onnxruntime runs every node of a graph whatever the fetches, so the idle heads are made empty by their
 * inputs' shapes rather than skipped. Throws UnsupportedGraphError when the head cannot be isolated (a fused
 * final norm); the caller then keeps one session per capability.
 */
export function sharedDecoder(model: OnnxModel): OnnxModel {
	requireOpset13(model);
	const edited = copyModelForEdit(model);
	const graph = edited.graph;
	const found = findDecoderLayers(edited);
	const { head } = isolatedLmHead(graph, found);
	const headSet = new Set(head);
	const logitsInfo = graph.output?.find((o) => o.name === found.logits);
	const logitsType = logitsInfo?.type?.tensorType?.elemType;
	const vocabDim = logitsInfo?.type?.tensorType?.shape?.dim?.[2];
	const vocab = vocabDim?.dimValue ? toInt(vocabDim.dimValue) : "vocab_size";
	const b = new GraphBuilder(graph, "/transllm/shared");
	graph.input!.push(makeValueInfo(b.claim(SHARED_DECODER_INPUTS.targetIds), DataType.INT64, ["batch_size", "target_length"]));
	graph.input!.push(makeValueInfo(b.claim(SHARED_DECODER_INPUTS.lensTokenSets), DataType.FLOAT, [vocab, "num_token_sets"]));
	const one = b.int64s([1], "/transllm/shared/one");
	const zero = b.int64s([0], "/transllm/shared/zero");
	const two = b.int64s([2], "/transllm/shared/two");
	const axis1 = b.int64s([1], "/transllm/shared/axis_1");
	const lastAxis = b.int64s([-1], "/transllm/shared/axis_last");
	const end = b.int64s([Number.MAX_SAFE_INTEGER], "/transllm/shared/end");
	const dim1 = (value: string): string => b.op("Slice", [b.op("Shape", [value]), one, two]); // [d1] of a 2-D input

	// Rows of the head: the last K = max(T, 1) positions of the final residual stream, then the lens rows.
	const targets = dim1(SHARED_DECODER_INPUTS.targetIds);
	const kept = b.op("Max", [targets, one]);
	const finalRows = b.op("Slice", [found.finalNormInput, b.op("Neg", [kept]), end, axis1]);
	const lastIndex = b.int64s([-1], "/transllm/shared/last", []);
	// hidden_states.{i} are float32: the gathered rows themselves in a float32 graph, a Cast of them otherwise.
	const float32 = logitsType === DataType.FLOAT && (graph.input ?? []).every((i) => i.type?.tensorType?.elemType !== DataType.FLOAT16);
	const lastRows = found.layerOutputs.map((value, i) =>
		b.op("Gather", [value, lastIndex], { attributes: { axis: { int: 1 } }, ...(float32 ? { output: b.claim(`hidden_states.${i}`) } : {}) }),
	); // [batch, hidden] each
	lastRows.forEach((value, i) => {
		if (!float32) b.op("Cast", [value], { output: b.claim(`hidden_states.${i}`), attributes: { to: { int: DataType.FLOAT } } });
		graph.output!.push(makeValueInfo(`hidden_states.${i}`, DataType.FLOAT, ["batch_size", "hidden_size"]));
	});
	const stacked = b.op("Concat", lastRows.map((value) => b.op("Unsqueeze", [value, axis1])), { attributes: { axis: { int: 1 } } }); // [batch, layers, hidden]
	const lensOn = b.op("Min", [dim1(SHARED_DECODER_INPUTS.lensTokenSets), one]);
	const lensLayers = b.op("Mul", [lensOn, b.int64s([found.layers], "/transllm/shared/layers")]);
	const scalar = (value: string): string => b.op("Squeeze", [value, zero]);
	const lensIndex = b.op("Range", [scalar(zero), scalar(lensLayers), scalar(one)]);
	const lensRows = b.op("Gather", [stacked, lensIndex], { attributes: { axis: { int: 1 } } }); // [batch, layers', hidden]
	const rows = b.op("Concat", [finalRows, lensRows], { attributes: { axis: { int: 1 } } });
	const headOut = cloneLmHead(b, graph, { finalNormInput: found.finalNormInput, logits: found.logits, input: rows, prefix: "/transllm/shared" });
	graph.node = (graph.node as OnnxNode[]).filter((_, at) => !headSet.has(at));
	// Only the last position leaves as `logits` (all generation reads), so scoring does not copy [batch, T, vocab].
	b.op("Slice", [headOut, b.op("Sub", [kept, one]), kept, axis1], { output: found.logits });
	if (logitsInfo && typeof logitsType === "number") {
		graph.output = graph.output!.map((o) => (o.name === found.logits ? makeValueInfo(found.logits, logitsType, ["batch_size", 1, vocab]) : o));
	}

	// Greedy search's next token, so a greedy loop fetches [batch, 1] ids instead of [batch, vocab] logits (first
	// index on ties, as the host's argmax and torch.argmax): TopK with k = 1 on `logits` [batch, 1, vocab], whose
	// CPU kernel takes about two thirds of ArgMax's time (0.57 vs 0.86 ms for 32 × 32000 floats on one thread).
	const [, topIndex] = b.node("TopK", [found.logits, one], { outputs: 2, attributes: { axis: { int: -1 } } });
	b.op("Squeeze", [topIndex as string, two], { output: b.claim("greedy_token_ids") });
	graph.output!.push(makeValueInfo("greedy_token_ids", DataType.INT64, ["batch_size", 1]));

	// Scoring, in an If on T > 0 so that a scoring run reads the head's output in place (no [batch, T, vocab] copy;
	// its rows are the T positions when the lens is idle) and a generation step computes nothing: log_softmax at the
	// targets, as the target's logit minus the log-sum-exp of its row.
	const scoring: OnnxGraph = { name: "scoring", node: [], initializer: [], input: [], output: [] };
	const sb = new GraphBuilder(scoring, "/transllm/shared_scoring");
	const rowsF = sb.op("Cast", [headOut], { attributes: { to: { int: DataType.FLOAT } } });
	const gathered = sb.op("GatherElements", [rowsF, sb.op("Unsqueeze", [SHARED_DECODER_INPUTS.targetIds, lastAxis])], { attributes: { axis: { int: -1 } } });
	// ReduceLogSumExp takes its axes as an input from opset 18, as an attribute before.
	const logSumExp =
		onnxOpset(model) >= 18
			? sb.op("ReduceLogSumExp", [rowsF, lastAxis], { attributes: { keepdims: { int: 1 } } })
			: sb.op("ReduceLogSumExp", [rowsF], { attributes: { axes: { ints: [-1] }, keepdims: { int: 1 } } });
	const scored = sb.op("Reshape", [sb.op("Sub", [gathered, logSumExp]), sb.op("Shape", [SHARED_DECODER_INPUTS.targetIds])]);
	scoring.output = [makeValueInfo(scored, DataType.FLOAT)];
	const idle: OnnxGraph = { name: "scoring_idle", node: [], initializer: [], input: [], output: [] };
	const ib = new GraphBuilder(idle, "/transllm/shared_scoring_idle");
	const empty = ib.op("ConstantOfShape", [ib.op("Shape", [SHARED_DECODER_INPUTS.targetIds])], {
		attributes: { value: { tensor: makeTensor({ name: "zero", dataType: DataType.FLOAT, dims: [1], data: [0] }) } },
	});
	idle.output = [makeValueInfo(empty, DataType.FLOAT)];
	b.node("If", [b.op("Greater", [targets, zero])], {
		outputs: [b.claim("token_logprobs")],
		attributes: { then_branch: { graph: scoring }, else_branch: { graph: idle } },
	});
	graph.output!.push(makeValueInfo("token_logprobs", DataType.FLOAT, ["batch_size", "target_length"]));

	// Logit lens: the rows after the K kept positions.
	const lensLogits = b.op("Cast", [b.op("Slice", [headOut, kept, end, axis1])], { attributes: { to: { int: DataType.FLOAT } } });
	const probs = b.op("Softmax", [lensLogits], { attributes: { axis: { int: -1 } } });
	const lensLogprobs = b.op("LogSoftmax", [lensLogits], { attributes: { axis: { int: -1 } } });
	b.op("MatMul", [probs, SHARED_DECODER_INPUTS.lensTokenSets], { output: b.claim("lens_probs") });
	const plogp = b.op("ReduceSum", [b.op("Mul", [probs, lensLogprobs]), lastAxis], { attributes: { keepdims: { int: 0 } } });
	b.op("Neg", [plogp], { output: b.claim("lens_entropy") });
	graph.output!.push(makeValueInfo("lens_probs", DataType.FLOAT, ["batch_size", "lens_layers", "num_token_sets"]));
	graph.output!.push(makeValueInfo("lens_entropy", DataType.FLOAT, ["batch_size", "lens_layers"]));
	return edited;
}
