// Regenerates the CLI reference in packages/transllm/README.md from the command table: `pnpm --filter transllm docs`.
import { readFileSync, writeFileSync } from "node:fs";
import { commands } from "../src/commands.js";
import { withCliReference } from "../src/cli-reference.js";

const path = new URL("../README.md", import.meta.url);
writeFileSync(path, withCliReference(readFileSync(path, "utf8"), commands));
console.log("updated", path.pathname);
