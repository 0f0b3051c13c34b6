import type { OnnxGraph, OnnxModel, OnnxNode, OnnxValueInfo } from "../onnx/onnx-proto.js";
import { type GraphIndex, indexGraph, producerOf } from "./graph-index.js";
import { UnsupportedGraphError } from "./unsupported-graph-error.js";

/** Where the residual stream of a decoder-only graph is, found by `findDecoderLayers`. */
export interface DecoderLayers {
	/** Decoder layers (the count of `past_key_values.{i}.key` inputs, checked against the norms found). */
	layers: number;
	/** Value names of the residual stream after each decoder layer i (the input of layer i+1's RMSNorm). */
	layerOutputs: string[];
	/** The input of the final norm (the residual stream after the last layer). */
	finalNormInput: string;
	/** The graph output with the logits. */
	logits: string;
	/** How the layer outputs were found. */
	method: "structure" | "names";
	/**
	 * Set when the final norm is a fused SkipSimplifiedLayerNormalization: its residual sum is not on the path
	 * to the logits, so a logit lens re-applies the norm (gamma, epsilon) and continues from `normalized`.
	 */
	finalSkipNorm?: { normalized: string; gamma: string; epsilon: number };
}

/** Nodes that compute an RMSNorm in one piece (ORT's fused op, and ai.onnx RMSNormalization from opset 23). */
const FUSED_RMS_NORMS = new Set(["SimplifiedLayerNormalization", "RMSNormalization"]);

const SKIP_RMS_NORM = "SkipSimplifiedLayerNormalization";

/**
 * The input x of an RMSNorm whose mean of squares this ReduceMean computes: ReduceMean(Pow(x, 2)) or
 * ReduceMean(Mul(x, x)), looking through a Cast (fp16 exports upcast before the norm).
 */
function rmsNormInput(graph: OnnxGraph, index: GraphIndex, node: OnnxNode): string | undefined {
	if (FUSED_RMS_NORMS.has(node.opType ?? "")) return node.input?.[0];
	if (node.opType !== "ReduceMean") return undefined;
	const square = producerOf(graph, index, node.input?.[0] ?? "");
	if (!square) return undefined;
	let x: string | undefined;
	if (square.opType === "Pow") x = square.input?.[0];
	else if (square.opType === "Mul" && square.input?.[0] === square.input?.[1]) x = square.input?.[0];
	if (x === undefined) return undefined;
	const cast = producerOf(graph, index, x);
	return cast?.opType === "Cast" ? (cast.input?.[0] ?? x) : x;
}

/**
 * The residual sum (input + skip) of a SkipSimplifiedLayerNormalization: its optional 4th output, which is
 * given a name when the export left it out (the node is replaced by a copy in `graph.node`).
 */
function skipNormSum(graph: OnnxGraph, at: number): string {
	const node = graph.node?.[at] as OnnxNode;
	const existing = node.output?.[3];
	if (existing) return existing;
	const outputs = [...(node.output ?? [])];
	while (outputs.length < 3) outputs.push("");
	const name = `${node.name || `node_${at}`}/input_skip_bias_sum`;
	outputs[3] = name;
	(graph.node as OnnxNode[])[at] = { ...node, output: outputs };
	return name;
}

/**
 * The torch.onnx (Optimum) name of the residual stream after decoder layer `i`: the output of the layer's
 * second residual Add. The fixtures use it too.
 */
export function layerOutputName(i: number): string {
	return `/model/layers.${i}/Add_1_output_0`;
}

/** The number of layers from the Optimum KV-cache inputs `past_key_values.{i}.key`. */
function cacheLayers(inputs: readonly OnnxValueInfo[]): number {
	return inputs.filter((v) => /^past_key_values\.\d+\.key$/.test(v.name ?? "")).length;
}

/**
 * Finds the residual stream after each decoder layer of a Llama-style decoder graph (an Optimum
 * `text-generation-with-past` export or this package's fixtures).
 *
 * By structure first: every RMSNorm of a pre-norm decoder reads the residual stream, two per layer plus the
 * final norm, so in topological order the inputs of norms 2, 4, ..., 2L are the outputs of layers 0..L-1
 * (the residual Adds that feed the next layer's input_layernorm) and the last is the final-norm input. With
 * fused SkipSimplifiedLayerNormalization (onnxruntime-genai), the residual stream is each norm's sum output. If the
 * norms cannot be matched, it falls back to the torch.onnx names `/model/layers.{i}/Add_1_output_0`.
 */
export function findDecoderLayers(model: OnnxModel): DecoderLayers {
	const graph = model.graph;
	if (!graph) throw new UnsupportedGraphError("the ONNX model has no graph");
	const outputs = new Set((graph.output ?? []).map((v) => v.name ?? ""));
	if (!outputs.has("logits")) {
		throw new UnsupportedGraphError(
			`no "logits" output (found ${[...outputs].slice(0, 6).join(", ")}); export the decoder with Optimum's text-generation-with-past task`,
		);
	}
	const layers = cacheLayers(graph.input ?? []);
	if (layers === 0) {
		throw new UnsupportedGraphError(
			'no "past_key_values.{i}.key" inputs: expected a decoder exported with its KV cache (text-generation-with-past)',
		);
	}
	const index = indexGraph(graph);
	let norms: { x: string; at: number }[] = [];
	(graph.node ?? []).forEach((node, at) => {
		const x = node.opType === SKIP_RMS_NORM ? skipNormSum(graph, at) : rmsNormInput(graph, index, node);
		if (x !== undefined) norms.push({ x, at });
	});
	const normCount = norms.length;
	if (norms.length !== 2 * layers + 1) {
		// Per-head query/key norms (Qwen3, OLMo-2) read reshaped projections; the residual stream norms read the
		// embeddings (the first norm) or a residual Add (or are a fused Skip norm).
		norms = norms.filter(
			({ x, at }, k) =>
				k === 0 || graph.node?.[at]?.opType === SKIP_RMS_NORM || producerOf(graph, index, x)?.opType === "Add",
		);
	}
	const normInputs = norms.map((n) => n.x);
	const normNodes = norms.map((n) => n.at);
	if (normInputs.length === 2 * layers + 1) {
		const layerOutputs = Array.from({ length: layers }, (_, i) => normInputs[2 * i + 2] as string);
		const found: DecoderLayers = {
			layers,
			layerOutputs,
			finalNormInput: layerOutputs[layers - 1] as string,
			logits: "logits",
			method: "structure",
		};
		const finalNorm = graph.node?.[normNodes[2 * layers] as number];
		if (finalNorm?.opType === SKIP_RMS_NORM) {
			const epsilon = finalNorm.attribute?.find((a) => a.name === "epsilon")?.f ?? 1e-5;
			found.finalSkipNorm = { normalized: finalNorm.output?.[0] ?? "", gamma: finalNorm.input?.[2] ?? "", epsilon };
		}
		return found;
	}
	const byName = Array.from({ length: layers }, (_, i) => layerOutputName(i));
	if (byName.every((name) => index.producer.has(name))) {
		return {
			layers,
			layerOutputs: byName,
			finalNormInput: byName[layers - 1] as string,
			logits: "logits",
			method: "names",
		};
	}
	throw new UnsupportedGraphError(
		`cannot find the decoder layers: expected ${2 * layers + 1} RMSNorms (ReduceMean of Pow(x, 2), SimplifiedLayerNormalization or SkipSimplifiedLayerNormalization) for ${layers} layers, found ${normCount}; ` +
			`nor the torch.onnx names /model/layers.{i}/Add_1_output_0. Only pre-norm decoders with RMSNorm (Llama, Mistral, Qwen2 and kin) are supported`,
	);
}
