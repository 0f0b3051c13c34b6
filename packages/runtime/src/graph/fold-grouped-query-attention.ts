import { GraphBuilder } from "../onnx/graph-builder.js";
import type { OnnxGraph, OnnxModel, OnnxNode } from "../onnx/onnx-proto.js";
import { tensorToArray } from "../onnx/tensor.js";
import { copyModelForEdit } from "./copy-model.js";
import { indexGraph, producerOf } from "./graph-index.js";
import type { GraphIndex } from "./graph-index.js";

/** repeat_kv's input and factor: Reshape(Expand(Unsqueeze(source, [2]), [1, 1, groups, 1, 1]), [·, heads, ·, ·]). */
interface RepeatKv {
	source: string;
	groups: number;
	heads: number;
}

/** The values of a constant int64 tensor (an initializer or a Constant node's), or undefined. */
function constantInts(graph: OnnxGraph, index: GraphIndex, name: string | undefined): number[] | undefined {
	if (!name) return undefined;
	const tensor = index.initializers.has(name) ? graph.initializer?.find((t) => t.name === name) : producerOf(graph, index, name)?.attribute?.find((a) => a.name === "value")?.t;
	if (!tensor || (index.producer.has(name) && producerOf(graph, index, name)?.opType !== "Constant")) return undefined;
	try {
		return Array.from(tensorToArray(tensor) as ArrayLike<bigint | number>, Number);
	} catch {
		return undefined; // external or of another type: not repeat_kv's shape
	}
}

/** The repeat_kv chain that produces `value` (transformers' Llama `repeat_kv` as torch.onnx and transllm export it), if any. */
function repeatKvOf(graph: OnnxGraph, index: GraphIndex, value: string): RepeatKv | undefined {
	const reshape = producerOf(graph, index, value);
	if (reshape?.opType !== "Reshape") return undefined;
	const expand = producerOf(graph, index, reshape.input?.[0] ?? "");
	if (expand?.opType !== "Expand") return undefined;
	const unsqueeze = producerOf(graph, index, expand.input?.[0] ?? "");
	if (unsqueeze?.opType !== "Unsqueeze" || unsqueeze.input?.length !== 2) return undefined;
	const axes = constantInts(graph, index, unsqueeze.input[1]);
	const repeat = constantInts(graph, index, expand.input?.[1]);
	const target = constantInts(graph, index, reshape.input?.[1]);
	if (axes?.length !== 1 || axes[0] !== 2 || repeat?.length !== 5 || target?.length !== 4) return undefined;
	const [a, b, groups, c, d] = repeat as [number, number, number, number, number];
	const heads = target[1] as number;
	if (a !== 1 || b !== 1 || c !== 1 || d !== 1 || groups < 2 || heads < groups || heads % groups !== 0) return undefined;
	return { source: unsqueeze.input[0] as string, groups, heads };
}

/**
 * Grouped-query attention without repeat_kv's copies of the KV cache. A Llama export with fewer KV heads than
 * query heads expands keys and values to every query head before the two attention MatMuls (transformers'
 * `repeat_kv`: Unsqueeze → Expand → Reshape), which copies the whole cache twice per layer and run — on the 56M
 * benchmark fixture at batch 32, 80 positions, 3.3 ms of a 44 ms decode step. Query head h = kv · groups + j
 * attends to KV head kv, so folding the query heads of each group into the rows of one matrix gives the same
 * products without the copies: MatMul(A [b, heads, q, n], repeat_kv(X)ᵀ or repeat_kv(X)) becomes
 * Reshape(MatMul(Reshape(A, [b, kv, groups·q, n]), Xᵀ or X), [b, heads, q, ·]). Other graphs come back unchanged.
 */
export function foldGroupedQueryAttention(model: OnnxModel): OnnxModel {
	const edited = copyModelForEdit(model);
	const graph = edited.graph;
	const index = indexGraph(graph);
	const b = new GraphBuilder(graph, "/transllm/gqa");
	const nodes = graph.node as OnnxNode[];
	const folded: OnnxNode[] = [];
	const replaced = new Set<string>();
	// Shapes shared by every layer: [b, kv, groups·q, n] and back to [b, heads, q, n] (0 keeps the input's dimension).
	const shapes = new Map<string, [string, string]>();
	for (const node of [...nodes]) {
		const other = node.input?.[1] ?? "";
		const transpose = producerOf(graph, index, other);
		const transposed = transpose?.opType === "Transpose" && `${transpose.attribute?.find((a) => a.name === "perm")?.ints?.map(Number) ?? ""}` === "0,1,3,2";
		const repeat = node.opType === "MatMul" && node.input?.length === 2 ? repeatKvOf(graph, index, transposed ? (transpose?.input?.[0] ?? "") : other) : undefined;
		if (!repeat) {
			folded.push(node);
			continue;
		}
		// Appended nodes are moved here, so the graph stays in topological order.
		const before = nodes.length;
		const key = `${repeat.heads}/${repeat.groups}`;
		if (!shapes.has(key)) shapes.set(key, [b.int64s([0, repeat.heads / repeat.groups, -1, 0], "/transllm/gqa/grouped_shape"), b.int64s([0, repeat.heads, -1, 0], "/transllm/gqa/heads_shape")]);
		const [groupedShape, headsShape] = shapes.get(key) as [string, string];
		const rows = b.op("Reshape", [node.input?.[0] as string, groupedShape]);
		const right = transposed ? b.op("Transpose", [repeat.source], { attributes: { perm: { ints: [0, 1, 3, 2] } } }) : repeat.source;
		const product = b.op("MatMul", [rows, right]);
		b.op("Reshape", [product, headsShape], { output: node.output?.[0] as string });
		folded.push(...nodes.splice(before));
		replaced.add(other);
	}
	if (replaced.size === 0) return model;
	withoutDeadChains(graph, folded, replaced);
	return edited;
}

/**
 * Sets the graph's nodes to `nodes` less those that only fed the replaced values (repeat_kv's chains and
 * transposes), walking producers back, and drops the initializers only they read (repeat_kv's shapes).
 */
function withoutDeadChains(graph: OnnxGraph, nodes: OnnxNode[], replaced: Set<string>): void {
	const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ""));
	const read = new Set<string>();
	let kept = nodes;
	let dead = replaced;
	while (dead.size > 0) {
		const used = new Set(kept.flatMap((n) => n.input ?? []));
		const drop = new Set(kept.filter((n) => n.output?.some((o) => dead.has(o)) && n.output.every((o) => !used.has(o) && !outputs.has(o))));
		dead = new Set([...drop].flatMap((n) => n.input ?? []));
		for (const value of dead) read.add(value);
		kept = kept.filter((n) => !drop.has(n));
	}
	const used = new Set(kept.flatMap((n) => n.input ?? []));
	graph.node = kept;
	graph.initializer = (graph.initializer ?? []).filter((t) => !read.has(t.name ?? "") || used.has(t.name ?? ""));
}
