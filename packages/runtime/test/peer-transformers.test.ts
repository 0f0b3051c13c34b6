import { basename, dirname } from "node:path";
import { AutoModelForCausalLM, AutoTokenizer, env } from "@huggingface/transformers";
import type { Tensor as HfTensor } from "@huggingface/transformers";
import { udhrParagraphs } from "@transllm/udhr-text";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import type { ChatModel } from "../src/chat-model.js";
import { buildLlamaFixture } from "../src/fixture/index.js";
import { tempDir } from "./graph-test-helpers.js";

// transformers.js v4 reads the same directory (onnx/model.onnx + model.onnx_data) from disk, never from the hub.
env.allowRemoteModels = false;
env.allowLocalModels = true;

describe("greedy generation vs @huggingface/transformers v4", () => {
	let dir: string;
	let model: ChatModel;

	beforeAll(async () => {
		dir = await tempDir("runtime-peer");
		await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, ropeTheta: 500000, seed: 21 });
		env.localModelPath = dirname(dir);
		model = await loadModel(dir, { worker: false, executionProvider: "cpu" });
	});
	afterAll(async () => {
		await model?.dispose();
	});

	it("should generate the same tokens from the same files, one prompt and a left-padded batch", async () => {
		const id = basename(dir);
		const tokenizer = await AutoTokenizer.from_pretrained(id);
		const peer = await AutoModelForCausalLM.from_pretrained(id, { dtype: "fp32", device: "cpu", use_external_data_format: true });
		const prompts = [udhrParagraphs("en")[4] as string, "Everyone is entitled to all the rights", (udhrParagraphs("fr")[3] as string).slice(0, 80)];
		tokenizer.padding_side = "left";
		const inputs = tokenizer(prompts, { padding: true });
		const output = (await peer.generate({ ...inputs, max_new_tokens: 16, do_sample: false })) as HfTensor;
		const width = output.dims[1] as number;
		const promptWidth = inputs.input_ids.dims[1] as number;
		const peerTokens = prompts.map((_, row) => Array.from(output.data as BigInt64Array).slice(row * width + promptWidth, (row + 1) * width).map(Number));

		const ours = await model.generate({ prompts, maxNewTokens: 16, batchSize: 3 });
		const alone = await model.generate({ prompts, maxNewTokens: 16, batchSize: 1 });
		expect(ours.map((r) => r.tokenIds)).toEqual(peerTokens);
		expect(alone.map((r) => r.tokenIds)).toEqual(peerTokens);
		await peer.dispose();
	});
});
