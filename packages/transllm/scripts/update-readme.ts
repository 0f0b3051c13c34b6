// Regenerates the CLI reference and the config reference in packages/transllm/README.md, schema.json, and the
// command index the bin lists before loading any package (src/command-index.ts), from the command table and the
// config schema: `pnpm --filter transllm docs`.
import { readFileSync, writeFileSync } from "node:fs";
import { commands } from "../src/commands.js";
import { withCliReference } from "../src/cli-reference.js";
import { configSchema } from "../src/pipeline/config-schema.js";
import { withConfigReference } from "../src/pipeline/config-reference.js";
import { renderCommandIndex } from "../src/render-command-index.js";

const path = new URL("../README.md", import.meta.url);
writeFileSync(path, withConfigReference(withCliReference(readFileSync(path, "utf8"), commands)));
const schema = new URL("../schema.json", import.meta.url);
writeFileSync(schema, `${JSON.stringify(configSchema, null, 2)}\n`);
const index = new URL("../src/command-index.ts", import.meta.url);
writeFileSync(index, await renderCommandIndex());
console.log("updated", path.pathname, schema.pathname, "and", index.pathname);
