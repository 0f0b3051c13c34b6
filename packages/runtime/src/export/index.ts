export * from "./export-model.js";
export * from "./hf-architecture.js";
export * from "./safetensors-checkpoint.js";
export * from "./external-weight-file.js";
