import { GraphBuilder, makeValueInfo } from "../onnx/graph-builder.js";
import { DataType, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxValueInfo } from "../onnx/onnx-proto.js";
import { makeTensor } from "../onnx/tensor.js";
import { requireOpset13 } from "./add-hidden-state-outputs.js";
import { UnsupportedGraphError } from "./unsupported-graph-error.js";

/** Options of `wrapDecoderInLoop`. */
export interface WrapDecoderInLoopOptions {
	/** Decode steps per run() (the Loop's trip count). */
	chunkSteps: number;
	/**
	 * "greedy" (default): argmax, the decoding of recovery KD (../shared/papers/000_1ce36f3811662daf.txt
	 * App. A.1). "sample": adds inputs `temperature` [] float32 and `top_k` [] int64 and samples in the graph
	 * (Gumbel-max over the top-k logits / temperature; temperature <= 0 falls back to argmax, top_k <= 0 means
	 * the whole vocabulary). "seeded": adds inputs `temperature` [] float32 (> 0), `top_k` [] int64, `top_p` []
	 * float32 and `uniforms` [batch, chunkSteps] float32 — one uniform draw per sequence and step, which the caller
	 * takes from each prompt's own random stream, so a prompt's sample does not depend on the batch it is in — and
	 * samples by inverse CDF after temperature → top-k → top-p, in transformers' warper order, as the host loop's
	 * sampleToken does with the same draws.
	 */
	sampling?: "greedy" | "sample" | "seeded";
	/**
	 * Seed of the in-graph random draws (RandomUniformLike's `seed`): one session created from the same graph
	 * replays the same draws for the same sequence of run() calls.
	 */
	seed?: number;
	/**
	 * End-of-sequence ids: the Loop stops after the step in which every sequence has produced one of them, so
	 * `tokens` may hold fewer than chunkSteps columns, and an output `finished` [batch] bool says which
	 * sequences are done (tokens after a sequence's EOS are to be ignored).
	 */
	eosTokenIds?: readonly number[];
}

const PREFIX = "loop/";

function typeOnly(info: OnnxValueInfo, name: string): OnnxValueInfo {
	const elemType = info.type?.tensorType?.elemType;
	if (elemType === undefined || elemType === null)
		throw new UnsupportedGraphError(`graph input ${info.name ?? ""} is not a tensor`);
	return makeValueInfo(name, elemType);
}

/**
 * Wraps a KV-cache decoder (Optimum `text-generation-with-past` I/O) in an ONNX `Loop` that runs
 * `chunkSteps` decode steps per run(): each iteration runs the decoder, picks the next token from the last
 * position's logits in the graph, and feeds the token, the grown attention mask, the next position and the
 * present KV cache to the next iteration, so the cache never leaves the device between steps.
 *
 * Inputs: those of the decoder (the first iteration may take a whole left-padded prompt), plus `temperature`
 * and `top_k` when sampling. Outputs: `tokens` [batch, steps] int64 (the chosen tokens; steps = chunkSteps
 * unless `eosTokenIds` stopped the chunk early), `next_attention_mask` [batch, past+seq+steps] and
 * `next_position_ids` [batch, 1] (the inputs of the next chunk, whose `input_ids` is the last column of
 * `tokens`), `present.{i}.key|value` (the cache of everything but the last token), and `finished` [batch]
 * with `eosTokenIds`. In Node a CUDA session still copies the outputs to the host, but once per chunk
 * instead of once per token.
 * Returns a new model; the decoder's weights stay outer-scope initializers (or external data) of the result.
 */
export function wrapDecoderInLoop(model: OnnxModel, options: WrapDecoderInLoopOptions): OnnxModel {
	requireOpset13(model);
	const steps = options.chunkSteps;
	if (!Number.isInteger(steps) || steps < 1)
		throw new UnsupportedGraphError(`chunkSteps must be a positive integer, got ${steps}`);
	const decoder = model.graph;
	if (!decoder) throw new UnsupportedGraphError("the ONNX model has no graph");
	const inputs = decoder.input ?? [];
	const byName = new Map(inputs.map((i) => [i.name ?? "", i]));
	for (const required of ["input_ids", "attention_mask", "position_ids"]) {
		if (!byName.has(required))
			throw new UnsupportedGraphError(
				`the decoder has no "${required}" input (expected Optimum's text-generation-with-past signature)`,
			);
	}
	const past = inputs.filter((i) => /^past_key_values\.\d+\.(key|value)$/.test(i.name ?? ""));
	const other = inputs.filter(
		(i) => !["input_ids", "attention_mask", "position_ids"].includes(i.name ?? "") && !past.includes(i),
	);
	if (other.length > 0) {
		throw new UnsupportedGraphError(
			`cannot loop a decoder with extra inputs (${other.map((i) => i.name).join(", ")}); merged decoders with use_cache_branch are not supported`,
		);
	}
	if (past.length === 0) throw new UnsupportedGraphError('the decoder has no "past_key_values.{i}.key|value" inputs');
	const presentFor = (name: string): string => name.replace(/^past_key_values\./, "present.");
	const outputNames = new Set((decoder.output ?? []).map((o) => o.name ?? ""));
	for (const p of past)
		if (!outputNames.has(presentFor(p.name ?? "")))
			throw new UnsupportedGraphError(`the decoder has no output ${presentFor(p.name ?? "")} for ${p.name}`);
	if (!outputNames.has("logits")) throw new UnsupportedGraphError('the decoder has no "logits" output');

	// The body: the decoder's nodes with their inputs and computed values renamed into the loop scope; the
	// weights stay outer-scope initializers, which a Loop body may read.
	const rename = new Map<string, string>();
	for (const input of inputs) rename.set(input.name ?? "", PREFIX + (input.name ?? ""));
	for (const node of decoder.node ?? []) for (const o of node.output ?? []) if (o) rename.set(o, PREFIX + o);
	const r = (name: string): string => rename.get(name) ?? name;
	const carried = [byName.get("input_ids")!, byName.get("attention_mask")!, byName.get("position_ids")!, ...past];
	const body: OnnxGraph = {
		name: "decode_step",
		node: (decoder.node ?? []).map((node): OnnxNode => ({
			...node,
			input: (node.input ?? []).map((i) => (i ? r(i) : i)),
			output: (node.output ?? []).map((o) => (o ? r(o) : o)),
		})),
		initializer: [],
		input: [
			makeValueInfo("loop/iteration", DataType.INT64, []),
			makeValueInfo("loop/cond", DataType.BOOL, []),
			...carried.map((c) => typeOnly(c, r(c.name ?? ""))),
		],
		output: [],
	};
	const b = new GraphBuilder(body, "/transllm/loop");
	for (const t of decoder.initializer ?? []) b.reserve(t.name ?? "");
	const lastIndex = b.int64s([-1], "/transllm/loop/last", []);
	const axis1 = b.int64s([1], "/transllm/loop/axes_1");
	const lastLogits = b.op("Cast", [b.op("Gather", [r("logits"), lastIndex], { attributes: { axis: { int: 1 } } })], {
		attributes: { to: { int: DataType.FLOAT } },
	}); // [batch, vocab]
	const greedy = b.op("ArgMax", [lastLogits], { attributes: { axis: { int: -1 }, keepdims: { int: 1 } } }); // [batch, 1]
	let next = greedy;
	if (options.sampling === "sample") next = sampleTopK(b, lastLogits, greedy, options.seed ?? 0);
	if (options.sampling === "seeded") next = sampleFromDraws(b, lastLogits, "loop/iteration");
	const ones = b.op("ConstantOfShape", [b.op("Shape", [next])], {
		attributes: { value: { tensor: makeTensor({ name: "one", dataType: DataType.INT64, dims: [1], data: [1] }) } },
	});
	const nextMask = b.op("Concat", [r("attention_mask"), ones], { attributes: { axis: { int: 1 } } });
	const lastPosition = b.op("Unsqueeze", [
		b.op("Gather", [r("position_ids"), lastIndex], { attributes: { axis: { int: 1 } } }),
		axis1,
	]);
	const nextPosition = b.op("Add", [lastPosition, b.int64s([1], "/transllm/loop/one", [])]);
	const eos = options.eosTokenIds ?? [];
	let condOut: string;
	let finishedOut: string | undefined;
	if (eos.length > 0) {
		body.input!.push(makeValueInfo(b.reserve("loop/finished"), DataType.BOOL));
		const hits = eos.map((id) => b.op("Equal", [next, b.int64s([id], `/transllm/loop/eos_${id}`, [])]));
		const isEos = hits.reduce((acc, hit) => b.op("Or", [acc, hit]));
		finishedOut = b.op("Or", ["loop/finished", isEos]);
		const running = b.op(
			"ReduceSum",
			[b.op("Cast", [b.op("Not", [finishedOut])], { attributes: { to: { int: DataType.INT64 } } })],
			{ attributes: { keepdims: { int: 0 } } },
		);
		condOut = b.op("Greater", [running, b.int64s([0], "/transllm/loop/zero", [])]);
	} else condOut = b.op("Identity", ["loop/cond"]);
	const token = b.op("Identity", [next]);
	body.output = [
		makeValueInfo(condOut, DataType.BOOL, []),
		makeValueInfo(next, DataType.INT64),
		makeValueInfo(nextMask, DataType.INT64),
		makeValueInfo(nextPosition, DataType.INT64),
		...past.map((p) => typeOnly(p, r(presentFor(p.name ?? "")))),
		...(finishedOut ? [makeValueInfo(finishedOut, DataType.BOOL)] : []),
		makeValueInfo(token, DataType.INT64),
	];

	// The outer graph: the decoder's inputs and weights, one Loop node, the chunk's outputs.
	const outer: OnnxGraph = {
		name: "decoder_loop",
		node: [],
		initializer: [...(decoder.initializer ?? [])],
		input: [...inputs],
		output: [],
	};
	const o = new GraphBuilder(outer, "/transllm");
	// The sampling inputs are read by the body from the outer scope.
	if (options.sampling === "sample" || options.sampling === "seeded")
		outer.input!.push(
			makeValueInfo(o.claim("temperature"), DataType.FLOAT, []),
			makeValueInfo(o.claim("top_k"), DataType.INT64, []),
		);
	if (options.sampling === "seeded")
		outer.input!.push(
			makeValueInfo(o.claim("top_p"), DataType.FLOAT, []),
			makeValueInfo(o.claim("uniforms"), DataType.FLOAT, ["batch_size", steps]),
		);
	for (const name of body.node!.flatMap((n) => n.output ?? [])) o.reserve(name);
	const tripCount = o.int64s([steps], "/transllm/loop/trip_count", []);
	const condition = o.initializer("/transllm/loop/condition", DataType.BOOL, [], [1]);
	const loopInputs = [tripCount, condition, ...carried.map((c) => c.name ?? "")];
	const loopOutputNames = [
		"/transllm/loop/last_token",
		"next_attention_mask",
		"next_position_ids",
		...past.map((p) => presentFor(p.name ?? "")),
	];
	if (finishedOut) {
		// Nothing has finished before the first step: false of shape [batch, 1].
		const batch = o.op("Gather", [o.op("Shape", ["input_ids"]), o.int64s([0], "/transllm/loop/batch_axis")]);
		const shape = o.op("Concat", [batch, o.int64s([1], "/transllm/loop/one_dim")], {
			attributes: { axis: { int: 0 } },
		});
		loopInputs.push(
			o.op("ConstantOfShape", [shape], {
				attributes: { value: { tensor: makeTensor({ name: "false", dataType: DataType.BOOL, dims: [1], data: [0] }) } },
			}),
		);
		loopOutputNames.push("/transllm/loop/finished");
	}
	const loopOutputs = o.node("Loop", loopInputs, {
		name: "/transllm/Loop",
		outputs: [...loopOutputNames, "/transllm/loop/tokens"],
		attributes: { body: { graph: body } },
	});
	if (finishedOut)
		o.op("Squeeze", ["/transllm/loop/finished", o.int64s([1], "/transllm/axes_1")], { output: o.claim("finished") });
	const scanned = loopOutputs[loopOutputs.length - 1] as string; // [steps, batch, 1]
	const squeezed = o.op("Squeeze", [scanned, o.int64s([2], "/transllm/axes_2")]);
	o.op("Transpose", [squeezed], { output: o.claim("tokens"), attributes: { perm: { ints: [1, 0] } } });
	const presentType = (p: OnnxValueInfo): number => p.type?.tensorType?.elemType ?? DataType.FLOAT;
	const done: string | number = finishedOut ? "steps_done" : steps;
	outer.output = [
		makeValueInfo("tokens", DataType.INT64, ["batch_size", done]),
		makeValueInfo("next_attention_mask", DataType.INT64, [
			"batch_size",
			`past_sequence_length + sequence_length + ${done}`,
		]),
		makeValueInfo("next_position_ids", DataType.INT64, ["batch_size", 1]),
		...past.map((p) =>
			makeValueInfo(presentFor(p.name ?? ""), presentType(p), [
				"batch_size",
				"num_key_value_heads",
				`past_sequence_length + sequence_length + ${done} - 1`,
				"head_dim",
			]),
		),
		...(finishedOut ? [makeValueInfo("finished", DataType.BOOL, ["batch_size"])] : []),
	];
	return { ...model, graph: outer };
}

/**
 * Top-k sampling with temperature by the Gumbel-max trick: argmax(logits/T + G) with G = -log(-log(U)) draws
 * from softmax(logits/T), here restricted to the k largest logits.
 */
function sampleTopK(b: GraphBuilder, logits: string, greedy: string, seed: number): string {
	const vocab = b.op("Gather", [b.op("Shape", [logits]), b.int64s([1], "/transllm/loop/vocab_axis", [])]);
	const zeroI = b.int64s([0], "/transllm/loop/zero_i64", []);
	const k = b.op("Where", [
		b.op("And", [b.op("Greater", ["top_k", zeroI]), b.op("Less", ["top_k", vocab])]),
		"top_k",
		vocab,
	]);
	const kVector = b.op("Reshape", [k, b.int64s([1], "/transllm/loop/shape_1")]);
	const zeroF = b.float(0, "/transllm/loop/zero_f32");
	const positive = b.op("Greater", ["temperature", zeroF]);
	const temperature = b.op("Where", [positive, "temperature", b.float(1, "/transllm/loop/one_f32")]);
	const scaled = b.op("Div", [logits, temperature]);
	const [values, indices] = b.node("TopK", [scaled, kVector], {
		outputs: 2,
		attributes: { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } },
	}) as [string, string];
	const uniform = b.op("RandomUniformLike", [values], {
		attributes: { low: { float: 1e-20 }, high: { float: 1 }, seed: { float: seed }, dtype: { int: DataType.FLOAT } },
	});
	const gumbel = b.op("Neg", [b.op("Log", [b.op("Neg", [b.op("Log", [uniform])])])]);
	const choice = b.op("ArgMax", [b.op("Add", [values, gumbel])], {
		attributes: { axis: { int: -1 }, keepdims: { int: 1 } },
	});
	const sampled = b.op("GatherElements", [indices, choice], { attributes: { axis: { int: -1 } } });
	return b.op("Where", [positive, sampled, greedy]);
}

/**
 * Sampling with the caller's draws (`uniforms` [batch, steps], column = iteration), as the host loop's sampleToken
 * does: logits / temperature, the top_k largest (all when top_k <= 0; sorted, lower index first on ties), softmax
 * weights, top-p keeping the smallest prefix whose mass reaches top_p (every token when top_p >= 1), then the first
 * candidate whose cumulative weight exceeds draw × kept mass. Arithmetic is float32 here, float64 on the host.
 */
function sampleFromDraws(b: GraphBuilder, logits: string, iteration: string): string {
	const vocab = b.op("Gather", [b.op("Shape", [logits]), b.int64s([1], "/transllm/loop/vocab_axis", [])]);
	const zeroI = b.int64s([0], "/transllm/loop/zero_i64", []);
	const k = b.op("Where", [b.op("And", [b.op("Greater", ["top_k", zeroI]), b.op("Less", ["top_k", vocab])]), "top_k", vocab]);
	const [values, indices] = b.node("TopK", [b.op("Div", [logits, "temperature"]), b.op("Reshape", [k, b.int64s([1], "/transllm/loop/shape_1")])], {
		outputs: 2,
		attributes: { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } },
	}) as [string, string];
	const lastAxis = b.int64s([-1], "/transllm/loop/sample_axis");
	const lastAxisScalar = b.int64s([-1], "/transllm/loop/sample_axis_scalar", []);
	const first = b.op("Slice", [values, b.int64s([0], "/transllm/loop/sample_zero"), b.int64s([1], "/transllm/loop/sample_one"), lastAxis]);
	const weights = b.op("Exp", [b.op("Sub", [values, first])]); // [batch, k], the largest is 1
	const total = b.op("ReduceSum", [weights, lastAxis], { attributes: { keepdims: { int: 1 } } });
	const before = b.op("CumSum", [weights, lastAxisScalar], { attributes: { exclusive: { int: 1 } } });
	const one = b.float(1, "/transllm/loop/sample_one_f32");
	const keep = b.op("Or", [b.op("Less", [b.op("Div", [before, total]), "top_p"]), b.op("GreaterOrEqual", ["top_p", one])]);
	const kept = b.op("Mul", [weights, b.op("Cast", [keep], { attributes: { to: { int: DataType.FLOAT } } })]);
	const keptTotal = b.op("ReduceSum", [kept, lastAxis], { attributes: { keepdims: { int: 1 } } });
	const uniform = b.op("Unsqueeze", [b.op("Gather", ["uniforms", iteration], { attributes: { axis: { int: 1 } } }), b.int64s([1], "/transllm/loop/sample_axis_1")]);
	const draw = b.op("Mul", [uniform, keptTotal]); // [batch, 1]
	const cumulative = b.op("CumSum", [kept, lastAxisScalar]);
	// The host returns the last kept candidate when rounding leaves the draw unspent.
	const keptCount = b.op("ReduceSum", [b.op("Cast", [keep], { attributes: { to: { int: DataType.INT64 } } }), lastAxis], { attributes: { keepdims: { int: 1 } } });
	const lastKept = b.op("Sub", [keptCount, b.int64s([1], "/transllm/loop/sample_one_i64", [])]);
	const positions = b.op("Range", [zeroI, k, b.int64s([1], "/transllm/loop/sample_step", [])]);
	const found = b.op("Or", [b.op("Greater", [cumulative, draw]), b.op("GreaterOrEqual", [positions, lastKept])]);
	const choice = b.op("ArgMax", [b.op("Cast", [found], { attributes: { to: { int: DataType.INT32 } } })], { attributes: { axis: { int: -1 }, keepdims: { int: 1 } } });
	return b.op("GatherElements", [indices, choice], { attributes: { axis: { int: -1 } } });
}
