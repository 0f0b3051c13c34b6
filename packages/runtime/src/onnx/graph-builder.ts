import { TransllmError } from "@transllm/core";
import {
	AttributeType,
	DataType,
	type OnnxAttribute,
	type OnnxGraph,
	type OnnxNode,
	type OnnxTensor,
	type OnnxValueInfo,
} from "./onnx-proto.js";
import { makeTensor, type TensorArray } from "./tensor.js";

/** A node attribute value, tagged with its ONNX attribute type. */
export type AttributeValue =
	| { float: number }
	| { int: number }
	| { string: string }
	| { tensor: OnnxTensor }
	| { graph: OnnxGraph }
	| { floats: number[] }
	| { ints: number[] };

/** Builds an AttributeProto. */
export function makeAttribute(name: string, value: AttributeValue): OnnxAttribute {
	if ("float" in value) return { name, type: AttributeType.FLOAT, f: value.float };
	if ("int" in value) return { name, type: AttributeType.INT, i: value.int };
	if ("string" in value) return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
	if ("tensor" in value) return { name, type: AttributeType.TENSOR, t: value.tensor };
	if ("graph" in value) return { name, type: AttributeType.GRAPH, g: value.graph };
	if ("floats" in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
	return { name, type: AttributeType.INTS, ints: value.ints };
}

/** A dimension: a fixed size or a symbolic name such as "batch_size". */
export type Dim = number | string;

/** A ValueInfoProto of a tensor with the given element type and (possibly symbolic) shape. */
export function makeValueInfo(name: string, elemType: number, dims?: readonly Dim[]): OnnxValueInfo {
	const tensorType: NonNullable<OnnxValueInfo["type"]>["tensorType"] = { elemType };
	if (dims) tensorType.shape = { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) };
	return { name, type: { tensorType } };
}

/**
 * Appends nodes and initializers to a graph with unique names. Node outputs are named `<node>_output_<k>`,
 * the convention of torch.onnx exports (Optimum), so added tensors read like exported ones.
 */
export class GraphBuilder {
	private readonly used = new Set<string>();
	private counter = 0;

	constructor(
		readonly graph: OnnxGraph,
		/** Prefix of generated node names, e.g. "/transllm/scoring". */
		readonly prefix = "",
	) {
		graph.node ??= [];
		graph.initializer ??= [];
		graph.input ??= [];
		graph.output ??= [];
		for (const v of [...graph.input, ...graph.output, ...(graph.valueInfo ?? [])]) this.used.add(v.name ?? "");
		for (const t of graph.initializer) this.used.add(t.name ?? "");
		for (const n of graph.node) {
			this.used.add(n.name ?? "");
			for (const o of n.output ?? []) this.used.add(o);
		}
	}

	/** A name not used yet in the graph, `base` itself when free. */
	unique(base: string): string {
		let name = base;
		for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
		this.used.add(name);
		return name;
	}

	/** Takes a name that must still be free (a new graph input or output); throws when the graph already uses it. */
	claim(name: string): string {
		if (this.used.has(name)) throw new TransllmError("E_MODEL", `the graph already has a value named "${name}"`);
		this.used.add(name);
		return name;
	}

	/** Marks a name as taken (for names bound outside this builder, e.g. subgraph inputs). */
	reserve(name: string): string {
		this.used.add(name);
		return name;
	}

	/** Appends a node; returns its output names. */
	node(
		opType: string,
		inputs: readonly string[],
		options: {
			name?: string;
			outputs?: readonly string[] | number;
			attributes?: Record<string, AttributeValue>;
			domain?: string;
		} = {},
	): string[] {
		const name = this.unique(options.name ?? `${this.prefix}/${opType}_${this.counter++}`);
		const outputs =
			typeof options.outputs === "object"
				? options.outputs.map((o) => this.reserve(o))
				: Array.from({ length: options.outputs ?? 1 }, (_, k) => this.unique(`${name}_output_${k}`));
		const node: OnnxNode = { name, opType, input: [...inputs], output: outputs };
		if (options.domain) node.domain = options.domain;
		if (options.attributes)
			node.attribute = Object.entries(options.attributes).map(([key, value]) => makeAttribute(key, value));
		(this.graph.node as OnnxNode[]).push(node);
		return outputs;
	}

	/** Appends a single-output node; returns its output name. */
	op(
		opType: string,
		inputs: readonly string[],
		options: { name?: string; output?: string; attributes?: Record<string, AttributeValue>; domain?: string } = {},
	): string {
		const { output, ...rest } = options;
		return this.node(opType, inputs, output === undefined ? rest : { ...rest, outputs: [output] })[0] as string;
	}

	/** Adds a ready-made initializer (e.g. one stored as external data) under its own name, which must be free. */
	addInitializer(tensor: OnnxTensor): string {
		this.claim(tensor.name ?? "");
		(this.graph.initializer as OnnxTensor[]).push(tensor);
		return tensor.name ?? "";
	}

	/** Adds an initializer; returns its (unique) name. */
	initializer(name: string, dataType: number, dims: readonly number[], data: TensorArray | readonly number[]): string {
		const unique = this.unique(name);
		(this.graph.initializer as OnnxTensor[]).push(makeTensor({ name: unique, dataType, dims, data }));
		return unique;
	}

	/** An int64 constant (1-D unless dims are given). */
	int64s(
		values: readonly number[],
		name = `${this.prefix}/const_i64`,
		dims: readonly number[] = [values.length],
	): string {
		return this.initializer(name, DataType.INT64, dims, values);
	}

	/** A float32 scalar constant. */
	float(value: number, name = `${this.prefix}/const_f32`): string {
		return this.initializer(name, DataType.FLOAT, [], [value]);
	}
}
