import { runCli, helpFor } from "@transllm/core";
import { dedupCommands } from "../src/index.ts";
if (process.argv[2] === "help") process.stdout.write(helpFor("transllm dedup", dedupCommands, [process.argv[3]!]));
else await runCli("transllm dedup", dedupCommands, process.argv.slice(2));
