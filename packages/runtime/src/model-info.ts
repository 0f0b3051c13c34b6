import { InputError, TransllmError } from "@transllm/core";
import type { InferenceSession } from "onnxruntime-node";

/** Floating-point type of the model's activations and KV cache. */
export type ModelDtype = "fp32" | "fp16";

/** The names of the decoder's inputs and outputs (Optimum's `text-generation-with-past` signature). */
export interface IoNames {
	inputIds: string;
	attentionMask: string;
	/** Absent in exports that derive positions inside the graph. */
	positionIds?: string;
	/** Optimum's merged decoder (`decoder_model_merged.onnx`) switches its cache branch with this boolean. */
	useCacheBranch?: string;
	pastKeys: string[];
	pastValues: string[];
	logits: string;
	presentKeys: string[];
	presentValues: string[];
}

/** What loadModel detects from config.json and the graph. */
export interface ModelInfo {
	layers: number;
	heads: number;
	kvHeads: number;
	headDim: number;
	hidden: number;
	vocabSize: number;
	dtype: ModelDtype;
	ioNames: IoNames;
	modelType: string;
}

/** The fields of a Hugging Face config.json that the runtime reads. */
export interface HfModelConfig {
	model_type?: string;
	num_hidden_layers?: number;
	num_attention_heads?: number;
	num_key_value_heads?: number;
	hidden_size?: number;
	head_dim?: number;
	vocab_size?: number;
	eos_token_id?: number | number[] | null;
	bos_token_id?: number | null;
	pad_token_id?: number | null;
	[key: string]: unknown;
}

type Metadata = readonly InferenceSession.ValueMetadata[];

function tensorMeta(metadata: Metadata, name: string): InferenceSession.TensorValueMetadata | undefined {
	const entry = metadata.find((m) => m.name === name);
	return entry?.isTensor ? entry : undefined;
}

/** Index-ordered names matching `<prefix>.<i>.<suffix>`, checked to run 0..n-1 without gaps. */
function layerNames(names: readonly string[], pattern: RegExp, what: string, file: string): string[] {
	const found = new Map<number, string>();
	for (const name of names) {
		const match = pattern.exec(name);
		if (match) found.set(Number(match[1]), name);
	}
	const out: string[] = [];
	for (let i = 0; i < found.size; i++) {
		const name = found.get(i);
		if (name === undefined) throw new InputError(`unsupported graph: ${what} names skip layer ${i} (found ${[...found.values()].join(", ")})`, { file });
		out.push(name);
	}
	return out;
}

/**
 * Detects the decoder's shape and I/O names from the session (the graph is the truth; config.json is checked
 * against it). Unsupported graphs — no KV-cache inputs, unknown names, mismatched layer counts — get an error
 * that names the ONNX file and what an Optimum `text-generation-with-past` export provides instead.
 */
export function detectModelInfo(
	session: Pick<InferenceSession, "inputNames" | "outputNames" | "inputMetadata" | "outputMetadata">,
	config: HfModelConfig,
	files: { onnx: string; config: string },
): ModelInfo {
	const onnxFile = files.onnx;
	const inputs = session.inputNames;
	const outputs = session.outputNames;
	const need = (list: readonly string[], name: string, role: string): string => {
		if (!list.includes(name)) {
			throw new InputError(
				`unsupported graph: no ${role} "${name}" (inputs: ${inputs.join(", ")}; outputs: ${outputs.join(", ")}); export the model with \`optimum-cli export onnx --task text-generation-with-past\``,
				{ file: onnxFile },
			);
		}
		return name;
	};
	const pastKeys = layerNames(inputs, /^past_key_values\.(\d+)\.key$/, "past_key_values.*.key", onnxFile);
	const pastValues = layerNames(inputs, /^past_key_values\.(\d+)\.value$/, "past_key_values.*.value", onnxFile);
	const presentKeys = layerNames(outputs, /^present\.(\d+)\.key$/, "present.*.key", onnxFile);
	const presentValues = layerNames(outputs, /^present\.(\d+)\.value$/, "present.*.value", onnxFile);
	if (pastKeys.length === 0) {
		throw new InputError(
			"unsupported graph: no past_key_values.{i}.key inputs, so the KV cache cannot be fed back; export with `--task text-generation-with-past`",
			{ file: onnxFile },
		);
	}
	const layers = pastKeys.length;
	for (const [list, what] of [
		[pastValues, "past_key_values.*.value"],
		[presentKeys, "present.*.key"],
		[presentValues, "present.*.value"],
	] as const) {
		if (list.length !== layers) throw new InputError(`unsupported graph: ${layers} past_key_values.*.key inputs but ${list.length} ${what}`, { file: onnxFile });
	}
	const ioNames: IoNames = {
		inputIds: need(inputs, "input_ids", "input"),
		attentionMask: need(inputs, "attention_mask", "input"),
		pastKeys,
		pastValues,
		logits: need(outputs, "logits", "output"),
		presentKeys,
		presentValues,
	};
	if (inputs.includes("position_ids")) ioNames.positionIds = "position_ids";
	if (inputs.includes("use_cache_branch")) ioNames.useCacheBranch = "use_cache_branch";

	const keyMeta = tensorMeta(session.inputMetadata, pastKeys[0] as string);
	const logitsMeta = tensorMeta(session.outputMetadata, ioNames.logits);
	const dtype = keyMeta?.type === "float16" ? "fp16" : keyMeta?.type === "float32" ? "fp32" : undefined;
	if (dtype === undefined) throw new InputError(`unsupported graph: KV cache of type ${keyMeta?.type ?? "unknown"} (fp32 and fp16 are supported)`, { file: onnxFile });
	if (keyMeta?.shape.length !== 4) {
		throw new InputError(`unsupported graph: ${pastKeys[0]} has rank ${keyMeta?.shape.length}, expected [batch, kv_heads, past_len, head_dim]`, { file: onnxFile });
	}

	// The graph's static dims win; config.json fills symbolic ones and must agree with the graph.
	const staticDim = (value: number | string | undefined): number | undefined => (typeof value === "number" ? value : undefined);
	const heads = config.num_attention_heads;
	const hidden = config.hidden_size;
	if (heads === undefined || hidden === undefined) throw new InputError("config.json lacks num_attention_heads or hidden_size", { file: files.config });
	const kvHeads = staticDim(keyMeta.shape[1]) ?? config.num_key_value_heads ?? heads;
	const headDim = staticDim(keyMeta.shape[3]) ?? config.head_dim ?? hidden / heads;
	const vocabSize = staticDim(logitsMeta?.shape[2]) ?? config.vocab_size;
	if (vocabSize === undefined) throw new InputError("cannot tell the vocabulary size: the graph's logits dim is symbolic and config.json has no vocab_size", { file: onnxFile });
	const checks: [string, number | undefined, number][] = [
		["num_hidden_layers", config.num_hidden_layers, layers],
		["num_key_value_heads", config.num_key_value_heads, kvHeads],
		["head_dim", config.head_dim, headDim],
		["vocab_size", config.vocab_size, vocabSize],
	];
	for (const [field, fromConfig, fromGraph] of checks) {
		if (fromConfig !== undefined && fromConfig !== fromGraph) {
			throw new TransllmError("E_MODEL", `${files.config}: ${field} = ${fromConfig} but the graph ${onnxFile} has ${fromGraph}: the config does not belong to this export`);
		}
	}
	return { layers, heads, kvHeads, headDim, hidden, vocabSize, dtype, ioNames, modelType: config.model_type ?? "unknown" };
}
