import { dirname } from "node:path";
import { ConfigError, InputError, SeededRng, listLanguages, readJsonFile } from "@transllm/core";
import { checkChatTemplate, tcotSpecialTokens } from "@transllm/tcot";
import { Tensor } from "onnxruntime-node";
import type { InferenceSession } from "onnxruntime-node";
import { chatTemplateOf, promptTokenIds } from "./chat-prompt.js";
import type { PromptContext, PromptInput, PromptOptions } from "./chat-prompt.js";
import { createSession } from "./execution-provider.js";
import type { ExecutionProviderChoice, ExecutionProviderRequest } from "./execution-provider.js";
import { decodeInGraph } from "./graph-decode.js";
import { addHiddenStateOutputs, addLogitLensOutputs, addScoringOutputs, addStepCacheOutputs, foldGroupedQueryAttention, keepOutputs, wrapDecoderInLoop } from "./graph/index.js";
import { decodeOnHost, decoderFeeds, noExtraFeeds } from "./host-decode.js";
import type { ExtraFeeds } from "./host-decode.js";
import { detectModelInfo } from "./model-info.js";
import type { HfModelConfig, ModelInfo } from "./model-info.js";
import { readCheckedModel } from "./check-model-files.js";
import { resolveModelFiles } from "./model-files.js";
import type { ModelFiles } from "./model-files.js";
import { resolveSampling } from "./sampling.js";
import type { ResolvedSampling, SamplingOptions } from "./sampling.js";
import { SequenceState } from "./sequence-state.js";
import type { FinishReason, SequenceLimits } from "./sequence-state.js";
import { ContinuousBatcher } from "./continuous-batch.js";
import { encodeOnnxModel, readOnnxModel } from "./onnx/index.js";
import type { OnnxModel } from "./onnx/index.js";
import { floatData, leftPad } from "./tensors.js";
import type { PaddedBatch } from "./tensors.js";
import { lastTokenLogits } from "./last-token-logits.js";
import { SHARED_DECODER_INPUTS, sharedDecoder } from "./shared-decoder.js";
import { loadTokenizer } from "./tokenizer.js";
import type { ChatTokenizer } from "./tokenizer.js";

/** How the decode loop runs: on the host (one run per token) or inside the graph (an ONNX Loop, N tokens per run). */
export type DecodeLoop = "host" | "graph";

export interface EngineOptions {
	/** `auto` (default) uses CUDA when its provider loads, else CPU with the reason; `cuda` fails without it. */
	executionProvider?: ExecutionProviderRequest;
	/** onnxruntime intra-op threads (default: all physical cores). */
	threads?: number;
	/** Default decode loop for greedy generation (default "host"). */
	decodeLoop?: DecodeLoop;
	/** Tokens per run() of the in-graph loop (default 16). */
	chunkSteps?: number;
	/** Most sequences in the continuously batched decode of submit() (default 16). */
	maxBatch?: number;
}

/** One request for continuous batching (`submit`): a prompt and GenerateParams' per-sequence settings. */
export interface SubmitParams extends SamplingOptions, PromptOptions {
	prompt: PromptInput;
	maxNewTokens?: number;
	seed?: number | string;
	stopStrings?: readonly string[];
	stopTokenIds?: readonly number[];
	keepSpecialTokens?: readonly string[];
	logprobs?: boolean;
	/** Streams the new text as it is generated. */
	onToken?(text: string): void;
}

export interface GenerateParams extends SamplingOptions, PromptOptions {
	/** Text prompts (rendered with the chat template when `chat`) or chat messages. */
	prompts: readonly PromptInput[];
	/** Default 256. */
	maxNewTokens?: number;
	/** Seed of the sampler (default 0); each prompt draws from its own stream, so results do not depend on batching. */
	seed?: number | string;
	/** Generation ends before the first occurrence of any of these; the text excludes it. */
	stopStrings?: readonly string[];
	/** Token ids that end generation (finish reason "stop"), besides the model's EOS ids (finish reason "eos"). */
	stopTokenIds?: readonly number[];
	/** Prompts per run (default 8). Prompts are grouped by length to keep padding small. */
	batchSize?: number;
	/** Streams each sequence's new text as it is generated (index = position in `prompts`). */
	onToken?(index: number, text: string): void;
	/** Override the model's decode loop for this call ("graph": greedy or seeded sampling, no repetition penalty or logprobs). */
	decodeLoop?: DecodeLoop;
	/**
	 * Special tokens that stay in the generated text (other special tokens are dropped). Default: the TCOT markers
	 * `<EN>`, `<RESPONSE>` and language-ID tokens the vocabulary has (tcotMarkerIds), so that TCOT output can be parsed.
	 */
	keepSpecialTokens?: readonly string[];
	/** Return each generated token's log-probability (`tokenLogprobs`). */
	logprobs?: boolean;
}

export interface GenerationResult {
	text: string;
	/** Generated token ids, without the EOS/stop token that ended the sequence. */
	tokenIds: number[];
	/** With `logprobs`: log P(token) per token of tokenIds (the model's softmax after the repetition penalty). */
	tokenLogprobs?: number[];
	finishReason: FinishReason;
	/** Prompt length in tokens. */
	promptTokens: number;
	executionProvider: ExecutionProviderChoice;
}

/** A prompt and the response whose log-probability is wanted. */
export interface ScorePair {
	prompt: PromptInput;
	response: string;
}

export interface ScoreParams extends PromptOptions {
	pairs: readonly ScorePair[];
	/** Pairs per run (default 8). */
	batchSize?: number;
	/** Also score the model's EOS token after the response (default false). */
	appendEos?: boolean;
}

export interface ScoreResult {
	/** log P(response | prompt) = the sum of the response tokens' log-probabilities (nats). */
	sum: number;
	/** sum / tokens: the per-token average. */
	mean: number;
	/** Response tokens scored. */
	tokens: number;
	/** log P(y_t | x, y_<t) for every response token. */
	tokenLogprobs: number[];
	executionProvider: ExecutionProviderChoice;
}

export interface HiddenStatesParams extends PromptOptions {
	prompts: readonly PromptInput[];
	/** Prompts per run (default 8). */
	batchSize?: number;
}

export interface LogitLensParams extends HiddenStatesParams {
	/** Token sets whose probability mass is read per layer (e.g. the English and the target-language next token). */
	tokenSets: readonly (readonly number[])[];
}

export interface LogitLensResult {
	/** probs[prompt][layer][set]: the softmax(lm_head(norm(h_layer))) mass of each token set at the last position. */
	probs: number[][][];
	/** entropy[prompt][layer] in nats. */
	entropy: number[][];
	executionProvider: ExecutionProviderChoice;
}

/** What a loaded model tells its callers (sent from the worker once it is ready). */
export interface ModelDescription {
	info: ModelInfo;
	executionProvider: ExecutionProviderChoice;
	files: ModelFiles;
	config: HfModelConfig;
	tokenizerConfig: Record<string, unknown>;
	chatTemplate?: string;
	eosTokenIds: number[];
	padTokenId: number;
	/** config.json's max_position_embeddings: prompt plus new tokens must fit (undefined: not checked). */
	contextLength?: number;
	/** Which logits the generation session computes: the last position's (graph edited) or, when the LM head could not be isolated, all. */
	logits: "last-token" | `all-positions (${string})`;
	/**
	 * "shared": generation, scoring, hidden states and the logit lens run in one session (sharedDecoder), so the
	 * weights are held once; otherwise each capability gets its own session on first use, and why.
	 */
	sessions: "shared" | `per-capability (${string})`;
	/**
	 * How the host decode loop keeps the KV cache: "in-place" in buffers the session reads as they are, only the new
	 * positions fetched (KvCacheBuffers); "fetched": `present.*` copied out of the session and fed back every step
	 * (CUDA, sliding-window models, graphs whose cache is not a Concat).
	 */
	hostKvCache: "in-place" | "fetched";
}

/**
 * Characters one token covers at most, for refusing a prompt too long for the context before tokenising it. Llama's
 * tokenizers cover about 4 characters of English a token; runs of spaces or repeated punctuation reach 16.
 */
const MAX_CHARS_PER_TOKEN = 64;

/**
 * The decoder graph generation runs: the shared decoder (sharedDecoder: generation with the last position's
 * logits, scoring, hidden states and the logit lens in one graph, so one session holds the weights), or the file
 * itself when the LM head cannot be isolated (the reason is kept in the model description; scoring, hidden
 * states and the lens then get sessions of their own).
 */
function generationDecoder(model: OnnxModel, onnx: string): { graph: string | Uint8Array; logits: ModelDescription["logits"]; sessions: ModelDescription["sessions"] } {
	try {
		const shared = sharedDecoder(foldGroupedQueryAttention(model));
		return { graph: encodeOnnxModel(withStepCacheOutputs(shared)), logits: "last-token", sessions: "shared" };
	} catch (error) {
		const why = (error as Error).message;
		return { graph: onnx, logits: `all-positions (${why})`, sessions: `per-capability (${why})` };
	}
}

/** The decoder with `present_step.*` outputs (addStepCacheOutputs) when its cache is built by Concat, else as it is. */
function withStepCacheOutputs(model: OnnxModel): OnnxModel {
	try {
		return addStepCacheOutputs(model);
	} catch {
		return model;
	}
}

/** Ids of the tokens the vocabulary has (unknown ones are ignored). */
function tokenIdSet(tokenizer: ChatTokenizer, tokens: Iterable<string>): Set<number> {
	const ids = new Set<number>();
	for (const token of tokens) {
		const id = tokenizer.tokenToId(token);
		if (id !== undefined) ids.add(id);
	}
	return ids;
}

/**
 * The TCOT markers of a vocabulary: `<EN>`, `<RESPONSE>` and every language-ID token it has. `tokenizer extend` and
 * LLaMA-Factory's `new_special_tokens` add them as special tokens, which skip_special_tokens would drop, leaving
 * nothing for the TCOT parser (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.3).
 */
export function tcotMarkerIds(tokenizer: ChatTokenizer): Set<number> {
	return tokenIdSet(tokenizer, tcotSpecialTokens(listLanguages().map((language) => language.code)));
}

function idList(value: unknown): number[] {
	if (typeof value === "number") return [value];
	if (Array.isArray(value)) return value.filter((v): v is number => typeof v === "number");
	return [];
}

/**
 * The inference engine of one model: the sessions, the tokenizer and the decode loops. It runs wherever it is
 * created — inside the worker thread (the default of loadModel) or on the caller's thread (`worker: false`).
 */
export class Engine implements PromptContext {
	private readonly variants = new Map<string, Promise<InferenceSession>>();

	private constructor(
		readonly description: ModelDescription,
		readonly tokenizer: ChatTokenizer,
		private readonly decoder: InferenceSession,
		private readonly options: EngineOptions,
		/** Whether `decoder` is a shared decoder (scoring, hidden states and the lens run in it too). */
		private readonly shared: boolean,
		/** Whether the host loop keeps the KV cache in buffers the session reads in place (KvCacheBuffers). */
		private readonly stepCache: boolean,
	) {}

	/**
	 * The feeds that leave a shared decoder's scoring and lens heads idle: empty target_ids [batch, 0] and
	 * lens_token_sets [vocab, 0].
	 */
	private readonly idleHeads: ExtraFeeds = (batch) =>
		this.shared
			? {
					[SHARED_DECODER_INPUTS.targetIds]: new Tensor("int64", new BigInt64Array(0), [batch, 0]),
					[SHARED_DECODER_INPUTS.lensTokenSets]: new Tensor("float32", new Float32Array(0), [this.info.vocabSize, 0]),
				}
			: noExtraFeeds(batch);

	get info(): ModelInfo {
		return this.description.info;
	}
	get chatTemplate(): string | undefined {
		return this.description.chatTemplate;
	}
	get tokenizerConfig(): Record<string, unknown> {
		return this.description.tokenizerConfig;
	}
	get chatTemplateFile(): string {
		return this.description.files.tokenizerConfig;
	}
	get executionProvider(): ExecutionProviderChoice {
		return this.description.executionProvider;
	}

	static async open(dir: string, options: EngineOptions = {}): Promise<Engine> {
		const files = await resolveModelFiles(dir);
		const config = await readJsonFile<HfModelConfig>(files.config, "config.json");
		const generationConfig = files.generationConfig ? await readJsonFile<Record<string, unknown>>(files.generationConfig, "generation_config.json") : {};
		const { tokenizer, tokenizerConfig } = await loadTokenizer(files);
		const decoder = generationDecoder(await readCheckedModel(files.onnx), files.onnx);
		const { session, executionProvider } = await createSession(decoder.graph, {
			executionProvider: options.executionProvider ?? "auto",
			externalDataDir: dirname(files.onnx),
			...(options.threads !== undefined ? { threads: options.threads } : {}),
		});
		const info = detectModelInfo(session, config, files);
		const eosToken = tokenizer.specialTokens.eos !== undefined ? tokenizer.tokenToId(tokenizer.specialTokens.eos) : undefined;
		const eosTokenIds = [...new Set([...idList(config.eos_token_id), ...idList(generationConfig.eos_token_id), ...(eosToken !== undefined ? [eosToken] : [])])];
		const padToken = tokenizer.specialTokens.pad !== undefined ? tokenizer.tokenToId(tokenizer.specialTokens.pad) : undefined;
		// Padded positions are masked out, so any id works; Llama has no pad token and HF falls back to EOS.
		const padTokenId = idList(config.pad_token_id)[0] ?? idList(generationConfig.pad_token_id)[0] ?? padToken ?? eosTokenIds[0] ?? 0;
		const chatTemplate = chatTemplateOf(tokenizerConfig);
		// A template is code from the model's files: tried once, bounded, before any prompt is rendered with it.
		if (chatTemplate !== undefined) await checkChatTemplate(chatTemplate, tokenizerConfig, files.tokenizerConfig);
		// The step cache leaves unwritten columns between the cache and the new token: right for masks built from
		// attention_mask, not for a sliding window counted in columns. On CUDA the loop stays as it was (unverified).
		const slidingWindow = typeof config.sliding_window === "number" && config.use_sliding_window !== false;
		const stepCache = executionProvider.name === "cpu" && !slidingWindow && session.outputNames.includes("present_step.0.key");
		const description: ModelDescription = {
			info,
			executionProvider,
			files,
			config,
			tokenizerConfig,
			eosTokenIds,
			padTokenId,
			logits: decoder.logits,
			sessions: decoder.sessions,
			hostKvCache: stepCache ? "in-place" : "fetched",
		};
		if (typeof config.max_position_embeddings === "number" && config.max_position_embeddings > 0) description.contextLength = config.max_position_embeddings;
		if (chatTemplate !== undefined) description.chatTemplate = chatTemplate;
		return new Engine(description, tokenizer, session, options, decoder.sessions === "shared", stepCache);
	}

	/**
	 * Token ids of a prompt, refused (InputError naming `field`) when empty or when it and `reserve` more tokens do not
	 * fit the model's context, as vLLM refuses such a request: past max_position_embeddings the model is out of its
	 * training range, and onnxruntime would try to allocate the KV cache of any length it is given. A prompt too long
	 * to fit whatever its tokenisation is refused before tokenising (a 50 MB prompt would not survive that).
	 */
	private promptIds(prompt: PromptInput, options: PromptOptions, field: string, reserve: number, what = "new tokens"): number[] {
		const context = this.description.contextLength;
		if (context !== undefined) {
			const chars = typeof prompt === "string" ? prompt.length : prompt.reduce((sum, message) => sum + message.content.length, 0);
			if (chars > context * MAX_CHARS_PER_TOKEN) {
				throw new InputError(`prompt of ${chars} characters cannot fit the model's context of ${context} tokens (max_position_embeddings; at most ${MAX_CHARS_PER_TOKEN} characters a token)`, { field });
			}
		}
		const ids = promptTokenIds(prompt, this, options);
		if (ids.length === 0) throw new InputError("prompt is empty (no tokens)", { field });
		if (context !== undefined && ids.length + reserve > context) {
			throw new InputError(
				what === "new tokens"
					? `prompt of ${ids.length} tokens leaves no room for a new token in the model's context of ${context} tokens (max_position_embeddings)`
					: `prompt of ${ids.length} tokens and ${reserve} ${what} exceed the model's context of ${context} tokens (max_position_embeddings)`,
				{ field },
			);
		}
		return ids;
	}

	/**
	 * Token ids of prompts, with the prompt index in errors; each must leave `reserve` tokens of the context free
	 * (generation then stops at the context: fitContext).
	 */
	private encodePrompts(prompts: readonly PromptInput[], options: PromptOptions, reserve: number): number[][] {
		return prompts.map((prompt, index) => this.promptIds(prompt, options, `prompts[${index}]`, reserve));
	}

	async generate(params: GenerateParams): Promise<GenerationResult[]> {
		const sampling = resolveSampling(params);
		const maxNewTokens = params.maxNewTokens ?? 256;
		const batchSize = params.batchSize ?? 8;
		if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new ConfigError(`maxNewTokens must be an integer ≥ 0, got ${params.maxNewTokens}`);
		if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be an integer ≥ 1, got ${params.batchSize}`);
		const loop = params.decodeLoop ?? this.options.decodeLoop ?? "host";
		if (loop === "graph" && params.logprobs) throw new ConfigError('logprobs need decodeLoop "host" (the in-graph loop returns token ids only)');
		if (loop === "graph" && sampling.repetitionPenalty !== 1) {
			throw new ConfigError('decodeLoop "graph" has no repetition penalty: use repetitionPenalty 1, or decodeLoop "host"');
		}
		const limits = this.limits(params, maxNewTokens);
		const root = sampling.temperature > 0 ? new SeededRng(params.seed ?? 0) : undefined;
		const prompts = this.encodePrompts(params.prompts, params, 1);
		const sequences = prompts.map(
			(ids, index) => new SequenceState(index, ids, this.tokenizer, this.fitContext(limits, ids), sampling, root?.fork(`sequence/${index}`), params.onToken),
		);
		// Longest first, in batches of similar length: little padding, and the slowest batch starts early.
		const order = sequences.map((_, index) => index).sort((a, b) => (prompts[b] as number[]).length - (prompts[a] as number[]).length || a - b);
		for (let start = 0; start < order.length; start += batchSize) {
			const batch = order.slice(start, start + batchSize).map((index) => sequences[index] as SequenceState);
			if (batch.every((s) => s.done)) continue;
			if (loop === "graph") await this.decodeInGraph(batch, sampling);
			else await decodeOnHost(this.decoder, this.info, batch, this.description.padTokenId, this.idleHeads, this.stepCache);
		}
		return sequences.map((s) => ({ ...s.result, promptTokens: s.promptIds.length, executionProvider: this.executionProvider }));
	}

	/** Generation stops at the model's context (finish reason "length"), as transformers' max_length does. */
	private fitContext(limits: SequenceLimits, promptIds: readonly number[]): SequenceLimits {
		const context = this.description.contextLength;
		if (context === undefined || promptIds.length + limits.maxNewTokens <= context) return limits;
		return { ...limits, maxNewTokens: context - promptIds.length };
	}

	private limits(params: Pick<GenerateParams, "stopTokenIds" | "stopStrings" | "keepSpecialTokens" | "logprobs">, maxNewTokens: number): SequenceLimits {
		return {
			...(params.logprobs ? { logprobs: true } : {}),
			maxNewTokens,
			eosTokenIds: new Set(this.description.eosTokenIds),
			stopTokenIds: new Set(params.stopTokenIds ?? []),
			stopStrings: params.stopStrings ?? [],
			keepSpecialTokens: params.keepSpecialTokens === undefined ? tcotMarkerIds(this.tokenizer) : tokenIdSet(this.tokenizer, params.keepSpecialTokens),
		};
	}

	private batcher: ContinuousBatcher | undefined;
	private readonly submitted = new Map<number, SequenceState>();

	/**
	 * Generates one prompt in the continuously batched decode loop: it joins the sequences already running at their
	 * next step and leaves when done. Same tokens as generate({ prompts: [prompt] }) with the same settings and seed.
	 * `handle` names the request for cancel().
	 */
	async submit(params: SubmitParams, handle?: number): Promise<GenerationResult> {
		const sampling = resolveSampling(params);
		const maxNewTokens = params.maxNewTokens ?? 256;
		if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new ConfigError(`maxNewTokens must be an integer ≥ 0, got ${params.maxNewTokens}`);
		const [ids] = this.encodePrompts([params.prompt], params, 1);
		// The stream generate() gives prompt 0, so a submitted prompt samples as it would alone.
		const rng = sampling.temperature > 0 ? new SeededRng(params.seed ?? 0).fork("sequence/0") : undefined;
		const onToken = params.onToken;
		const sequence = new SequenceState(0, ids as number[], this.tokenizer, this.fitContext(this.limits(params, maxNewTokens), ids as number[]), sampling, rng, onToken ? (_index, text) => onToken(text) : undefined);
		this.batcher ??= new ContinuousBatcher(this.decoder, this.info, this.description.padTokenId, this.options.maxBatch ?? 16, this.idleHeads, this.stepCache);
		if (handle !== undefined) this.submitted.set(handle, sequence);
		try {
			await this.batcher.submit(sequence);
		} finally {
			if (handle !== undefined) this.submitted.delete(handle);
		}
		return { ...sequence.result, promptTokens: sequence.promptIds.length, executionProvider: this.executionProvider };
	}

	/** Ends a submitted request now; it resolves with the text so far (finish reason "stop"). */
	cancel(handle: number): void {
		this.submitted.get(handle)?.cancel();
	}

	/**
	 * A session of the decoder with graph surgery applied (scoring, hidden states, logit lens, decode loop),
	 * created on first use on the provider the model runs on. The edited graph is passed as bytes; its
	 * external data is still read from the model directory.
	 */
	private variant(name: string, edit: (model: OnnxModel) => OnnxModel): Promise<InferenceSession> {
		let session = this.variants.get(name);
		if (!session) {
			const files = this.description.files;
			session = readOnnxModel(files.onnx).then(async (model) => {
				const created = await createSession(encodeOnnxModel(edit(foldGroupedQueryAttention(model))), {
					executionProvider: this.executionProvider.name,
					externalDataDir: dirname(files.onnx),
					...(this.options.threads !== undefined ? { threads: this.options.threads } : {}),
				});
				return created.session;
			});
			session.catch(() => this.variants.delete(name));
			this.variants.set(name, session);
		}
		return session;
	}

	private async decodeInGraph(batch: SequenceState[], sampling: ResolvedSampling): Promise<void> {
		const chunkSteps = this.options.chunkSteps ?? 16;
		const lastToken = this.description.logits === "last-token";
		// The model's EOS ids end a chunk early once every row has produced one; stop tokens and strings are checked on the host.
		const eosTokenIds = this.description.eosTokenIds;
		const sampled = sampling.temperature > 0;
		const loop = await this.variant(`loop-${sampled ? "seeded-" : ""}${chunkSteps}`, (model) =>
			wrapDecoderInLoop(lastToken ? lastTokenLogits(model) : model, { chunkSteps, eosTokenIds, ...(sampled ? { sampling: "seeded" as const } : {}) }),
		);
		await decodeInGraph(loop, this.info, batch, this.description.padTokenId, chunkSteps, sampled ? sampling : undefined);
	}

	/** Runs prompts (token ids) in left-padded batches through a session, fetching only `fetches`. */
	private async *batches(session: InferenceSession, sequences: readonly (readonly number[])[], batchSize: number, fetches: string[], extraFeeds: (padded: PaddedBatch) => Record<string, Tensor> = () => ({})): AsyncGenerator<{ rows: number[]; padded: PaddedBatch; outputs: InferenceSession.OnnxValueMapType }> {
		if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
		const order = sequences.map((_, index) => index).sort((a, b) => (sequences[b] as number[]).length - (sequences[a] as number[]).length || a - b);
		for (let start = 0; start < order.length; start += batchSize) {
			const rows = order.slice(start, start + batchSize);
			const padded = leftPad(
				rows.map((row) => sequences[row] as number[]),
				this.description.padTokenId,
			);
			const feeds = { ...decoderFeeds(this.info, padded, undefined, rows.length, this.idleHeads), ...extraFeeds(padded) };
			yield { rows, padded, outputs: await session.run(feeds, fetches) };
		}
	}

	/**
	 * log P(response | prompt) with the log-softmax and the gather inside the graph (addScoringOutputs): one
	 * number per position leaves the session, never the vocabulary. The prompt is tokenised as for generation
	 * and the response on its own, without special tokens, then appended.
	 */
	async score(params: ScoreParams): Promise<ScoreResult[]> {
		const eos = this.description.eosTokenIds[0];
		if (params.appendEos && eos === undefined) throw new ConfigError("appendEos: the model defines no EOS token");
		const split = params.pairs.map((pair, index) => {
			if (typeof pair.response !== "string" || pair.response === "") throw new InputError("response must be a non-empty string", { field: `pairs[${index}].response` });
			const context = this.description.contextLength;
			if (context !== undefined && pair.response.length > context * MAX_CHARS_PER_TOKEN) {
				throw new InputError(`response of ${pair.response.length} characters cannot fit the model's context of ${context} tokens (max_position_embeddings)`, { field: `pairs[${index}].response` });
			}
			const response = this.tokenizer.encode(pair.response, { addSpecialTokens: false });
			if (params.appendEos) response.push(eos as number);
			const prompt = this.promptIds(pair.prompt, params, `pairs[${index}].prompt`, response.length, "response tokens");
			return { prompt, response };
		});
		const sequences = split.map(({ prompt, response }) => [...prompt, ...response]);
		// Only token_logprobs is fetched: no logits, no KV cache copied out for a one-shot scoring run.
		const session = this.shared ? this.decoder : await this.variant("scoring", (model) => keepOutputs(addScoringOutputs(model), ["token_logprobs"]));
		const results: ScoreResult[] = new Array(split.length);
		// target_ids[b, s] = input_ids[b, s + 1]: position s predicts the next token (the last target is ignored).
		const targets = (padded: PaddedBatch): Record<string, Tensor> => {
			const ids = padded.inputIds.data as BigInt64Array;
			const shifted = new BigInt64Array(ids.length);
			for (let row = 0; row < padded.batch; row++) shifted.set(ids.subarray(row * padded.length + 1, (row + 1) * padded.length), row * padded.length);
			return { target_ids: new Tensor("int64", shifted, [padded.batch, padded.length]) };
		};
		for await (const { rows, padded, outputs } of this.batches(session, sequences, params.batchSize ?? 8, ["token_logprobs"], targets)) {
			const logprobs = floatData(outputs.token_logprobs as Tensor);
			rows.forEach((index, b) => {
				const { prompt, response } = split[index] as { prompt: number[]; response: number[] };
				// Row b is padded on the left: response token j sits at column pad + |prompt| + j, predicted by the column before.
				const first = b * padded.length + (padded.length - prompt.length - response.length) + prompt.length - 1;
				const tokenLogprobs = Array.from(logprobs.subarray(first, first + response.length));
				const sum = tokenLogprobs.reduce((a, v) => a + v, 0);
				results[index] = { sum, mean: sum / response.length, tokens: response.length, tokenLogprobs, executionProvider: this.executionProvider };
			});
		}
		return results;
	}

	/** The residual stream after every decoder layer at each prompt's last token: [prompt][layer] → Float32Array(hidden). */
	async hiddenStates(params: HiddenStatesParams): Promise<Float32Array[][]> {
		const prompts = this.encodePrompts(params.prompts, params, 0);
		const names = Array.from({ length: this.info.layers }, (_, layer) => `hidden_states.${layer}`);
		const session = this.shared ? this.decoder : await this.variant("hidden-states", (model) => keepOutputs(addHiddenStateOutputs(model, { positions: "last" }), names));
		const results: Float32Array[][] = new Array(prompts.length);
		for await (const { rows, outputs } of this.batches(session, prompts, params.batchSize ?? 8, names)) {
			rows.forEach((index, b) => {
				// Copies (slice): each row owns its buffer, so the worker can transfer it without the batch's.
				results[index] = names.map((name) => floatData(outputs[name] as Tensor, b * this.info.hidden, this.info.hidden).slice());
			});
		}
		return results;
	}

	/** The logit lens computed in the graph (addLogitLensOutputs): per layer, each token set's probability mass and the entropy. */
	async logitLens(params: LogitLensParams): Promise<LogitLensResult> {
		const vocab = this.info.vocabSize;
		const sets = params.tokenSets.length;
		if (sets === 0) throw new ConfigError("logitLens needs at least one token set");
		const mask = new Float32Array(vocab * sets);
		params.tokenSets.forEach((set, s) => {
			for (const id of set) {
				if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new InputError(`token id ${id} is outside the vocabulary (0..${vocab - 1})`, { field: `tokenSets[${s}]` });
				mask[id * sets + s] = 1;
			}
		});
		const prompts = this.encodePrompts(params.prompts, params, 0);
		const session = this.shared ? this.decoder : await this.variant("logit-lens", (model) => keepOutputs(addLogitLensOutputs(model), ["lens_probs", "lens_entropy"]));
		const layers = this.info.layers;
		const probs: number[][][] = new Array(prompts.length);
		const entropy: number[][] = new Array(prompts.length);
		const tokenSets = new Tensor("float32", mask, [vocab, sets]);
		for await (const { rows, outputs } of this.batches(session, prompts, params.batchSize ?? 8, ["lens_probs", "lens_entropy"], () => ({ lens_token_sets: tokenSets }))) {
			const p = floatData(outputs.lens_probs as Tensor);
			const e = floatData(outputs.lens_entropy as Tensor);
			rows.forEach((index, b) => {
				probs[index] = Array.from({ length: layers }, (_, layer) => Array.from(p.subarray((b * layers + layer) * sets, (b * layers + layer + 1) * sets)));
				entropy[index] = Array.from(e.subarray(b * layers, (b + 1) * layers));
			});
		}
		return { probs, entropy, executionProvider: this.executionProvider };
	}

	async dispose(): Promise<void> {
		await this.decoder.release();
		for (const variant of this.variants.values()) await (await variant).release();
		this.variants.clear();
	}
}
