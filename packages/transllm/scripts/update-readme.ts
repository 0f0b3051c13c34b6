// Regenerates the CLI reference and the config reference in packages/transllm/README.md, and schema.json, from the
// command table and the config schema: `pnpm --filter transllm docs`.
import { readFileSync, writeFileSync } from "node:fs";
import { commands } from "../src/commands.js";
import { withCliReference } from "../src/cli-reference.js";
import { configSchema } from "../src/pipeline/config-schema.js";
import { withConfigReference } from "../src/pipeline/config-reference.js";

const path = new URL("../README.md", import.meta.url);
writeFileSync(path, withConfigReference(withCliReference(readFileSync(path, "utf8"), commands)));
const schema = new URL("../schema.json", import.meta.url);
writeFileSync(schema, `${JSON.stringify(configSchema, null, 2)}\n`);
console.log("updated", path.pathname, "and", schema.pathname);
