export * from "./special-tokens.js";
// The special-token policy lives in @transllm/core (one policy for every package); re-exported for tcot's users.
export { CHAT_CONTROL_TOKENS, SPECIAL_TOKEN_ESCAPE, escapeSpecialTokens, findSpecialToken, guardSpecialTokens, requireText } from "@transllm/core";
export type { SpecialTokenPolicy, TextOrigin } from "@transllm/core";
export * from "./training-instance.js";
export * from "./translation-templates.js";
export * from "./translation-instances.js";
export * from "./transfer-data.js";
export * from "./translation-pretraining.js";
export * from "./chat-templates.js";
export * from "./render-chat.js";
export * from "./check-chat-template.js";
export * from "./tcot-prompt.js";
export * from "./tcot-stream-parser.js";
export * from "./llamafactory-format.js";
export * from "./trl-format.js";
export * from "./build-training-files.js";
export * from "./parse-output-file.js";
export * from "./cli.js";
