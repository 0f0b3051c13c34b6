export * from "./unsupported-graph-error.js";
export * from "./find-decoder-layers.js";
export * from "./add-hidden-state-outputs.js";
export * from "./add-scoring-outputs.js";
export * from "./add-logit-lens-outputs.js";
export * from "./wrap-decoder-in-loop.js";
export * from "./keep-outputs.js";
export { copyModelForEdit, onnxOpset } from "./copy-model.js";
export * from "./add-step-cache-outputs.js";
