export { commands } from "./commands.js";
export { cliReference, withCliReference } from "./cli-reference.js";
export * from "./pipeline/index.js";
