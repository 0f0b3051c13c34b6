// Engine side: loading, generation, scoring, hidden states, execution providers, the worker and the CLI table.
export * from "./chat-model.js";
export * from "./engine.js";
export * from "./model-files.js";
export * from "./model-info.js";
export * from "./execution-provider.js";
export * from "./tokenizer.js";
export * from "./chat-prompt.js";
export * from "./sampling.js";
export * from "./sequence-state.js";
export * from "./generated-text.js";
export * from "./continuous-batch.js";
export * from "./last-token-logits.js";
export * from "./shared-decoder.js";
export { runtimeCommands } from "./cli.js";
// Graph side: ONNX ModelProto I/O, the Llama fixture builder and reference forward pass, graph surgery.
export * from "./onnx/index.js";
export * from "./fixture/index.js";
export * from "./graph/index.js";
// Hugging Face checkpoints back into ONNX (`transllm export`).
export * from "./export/index.js";
