import { ConfigError } from "@transllm/core";
import { type LlamaArchitecture, llamaArchitectureFromConfig, llamaWeightShapes } from "../fixture/llama-config.js";
import type { RopeScaling } from "../fixture/rope-scaling.js";

/** The Hugging Face architectures `exportModel` writes, by config.json `model_type`. */
export const EXPORT_ARCHITECTURES = {
	llama: "LlamaForCausalLM",
	mistral: "MistralForCausalLM",
	qwen2: "Qwen2ForCausalLM",
} as const;

/** What the graph builder needs to know about a Llama-family checkpoint. */
export interface HfArchitecture {
	modelType: keyof typeof EXPORT_ARCHITECTURES;
	arch: LlamaArchitecture;
	ropeScaling?: RopeScaling;
	attentionBias: { q: boolean; k: boolean; v: boolean; o: boolean };
	slidingWindow?: number;
	/** Hugging Face weight names and shapes the checkpoint must hold. */
	weightShapes: Map<string, number[]>;
}

/**
 * Reads a Llama-family config.json (transformers 4's `rope_theta` / `rope_scaling` or transformers 5's
 * `rope_parameters`). Anything the graph would compute differently is an error naming the field, never a
 * silently different model.
 */
export function hfArchitectureFromConfig(config: Record<string, unknown>, file = "config.json"): HfArchitecture {
	const modelType = config.model_type;
	const declared = Array.isArray(config.architectures) ? (config.architectures as unknown[]).join(", ") : undefined;
	if (typeof modelType !== "string" || !(modelType in EXPORT_ARCHITECTURES)) {
		throw new ConfigError(
			`${file}: architecture ${declared ?? "(none)"} (model_type ${JSON.stringify(modelType)}) is not supported by transllm export; supported: ${Object.values(EXPORT_ARCHITECTURES).join(", ")}`,
		);
	}
	const type = modelType as keyof typeof EXPORT_ARCHITECTURES;
	const field = (name: string, allowed: unknown[], why: string): void => {
		if (config[name] !== undefined && !allowed.includes(config[name]))
			throw new ConfigError(`${file}: ${name} = ${JSON.stringify(config[name])} is not supported (${why})`);
	};
	field("hidden_act", ["silu"], "the graph's MLP is SwiGLU with SiLU");
	field("mlp_bias", [false, null], "the graph's MLP has no biases");
	field("use_sliding_window", [false, null], "Qwen2's per-layer sliding window is not built");

	const rope = (config.rope_parameters ?? config.rope_scaling ?? {}) as Record<string, unknown>;
	const ropeTheta = (rope.rope_theta ?? config.rope_theta ?? 10000) as number;
	const ropeType = rope.rope_type ?? rope.type ?? "default";
	let ropeScaling: RopeScaling | undefined;
	if (ropeType === "llama3") {
		const number = (key: string): number => {
			const value = rope[key];
			if (typeof value !== "number") throw new ConfigError(`${file}: rope scaling field "${key}" must be a number, got ${JSON.stringify(value)}`);
			return value;
		};
		ropeScaling = {
			type: "llama3",
			factor: number("factor"),
			lowFreqFactor: number("low_freq_factor"),
			highFreqFactor: number("high_freq_factor"),
			originalMaxPositionEmbeddings: number("original_max_position_embeddings"),
		};
	} else if (ropeType !== "default") {
		throw new ConfigError(`${file}: rope type ${JSON.stringify(ropeType)} is not supported (default and llama3 are)`);
	}
	const arch = llamaArchitectureFromConfig({ ...config, rope_theta: ropeTheta }, file);
	const llamaBias = config.attention_bias === true;
	const attentionBias =
		type === "qwen2" ? { q: true, k: true, v: true, o: false } : { q: llamaBias, k: llamaBias, v: llamaBias, o: llamaBias };
	const window = type === "mistral" ? config.sliding_window : undefined;
	if (window !== undefined && window !== null && (typeof window !== "number" || !Number.isInteger(window) || window <= 0))
		throw new ConfigError(`${file}: sliding_window must be a positive integer or null, got ${JSON.stringify(window)}`);

	const weightShapes = llamaWeightShapes(arch);
	const projections = { q: arch.heads * arch.headDim, k: arch.kvHeads * arch.headDim, v: arch.kvHeads * arch.headDim, o: arch.hidden };
	for (let i = 0; i < arch.layers; i++)
		for (const [key, size] of Object.entries(projections))
			if (attentionBias[key as keyof typeof projections]) weightShapes.set(`model.layers.${i}.self_attn.${key}_proj.bias`, [size]);
	return {
		modelType: type,
		arch,
		...(ropeScaling ? { ropeScaling } : {}),
		attentionBias,
		...(typeof window === "number" ? { slidingWindow: window } : {}),
		weightShapes,
	};
}
