export * from "./paper-settings.js";
export * from "./llamafactory-fields.js";
export * from "./llamafactory-config.js";
export * from "./data-files.js";
export * from "./vocabulary-check.js";
export * from "./training-plan.js";
export * from "./verify-llamafactory.js";
export * from "./cli.js";
