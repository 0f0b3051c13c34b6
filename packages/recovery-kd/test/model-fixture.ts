import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLlamaFixture, loadModel } from "@transllm/runtime";

/** A tiny real Llama (ONNX, byte-level BPE tokenizer, Llama-2 chat template) built and loaded as a user's model is. */
export async function tinyChatModel(): Promise<{ dir: string; model: Awaited<ReturnType<typeof loadModel>> }> {
	const dir = join(await mkdtemp(join(tmpdir(), "kd-model-")), "tiny-llama-chat");
	await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, seed: 11 });
	const model = await loadModel(dir, { executionProvider: "cpu" });
	return { dir, model };
}
