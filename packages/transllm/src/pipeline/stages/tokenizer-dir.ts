import type { PipelineConfig } from "../config.js";

/** The tokenizer the tokenizer stages start from: base_model.tokenizer, else the model directory. */
export const baseTokenizerDir = (config: PipelineConfig): string => config.base_model.tokenizer ?? config.base_model.model;
