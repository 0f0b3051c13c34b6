export * from "./onnx-proto.js";
export * from "./tensor.js";
export * from "./external-data.js";
export * from "./onnx-model-file.js";
export * from "./graph-builder.js";
export * from "./block-quantize.js";
