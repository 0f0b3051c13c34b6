import type { CommandTable } from "@transllm/core";
import { runtimeCommands } from "@transllm/runtime";
import { dedupCommands } from "@transllm/dedup";
import { probeCommands } from "@transllm/prom-probe";
import { cloCommands } from "@transllm/clo";
import { chatCommand, kdCommands, serveCommand } from "@transllm/recovery-kd";
import { tcotCommands } from "@transllm/tcot";
import { corpusCommands } from "@transllm/corpus";
import { tokenizerCommands } from "@transllm/tokenizer";
import { pipelineCommands } from "./pipeline/commands.js";
import { trainCommands } from "@transllm/train";
import { evalCommands } from "@transllm/eval";
import { groupDescriptions as group } from "./group-descriptions.js";

/**
 * The transllm command table: every package owns its subcommands in its own `src/cli.ts`; this table only
 * names where each one hangs (`transllm tcot …`, `transllm generate`), in the order of the TransLLM pipeline, after
 * the pipeline's own `init`, `run` and `status`, which call the same packages' APIs. The bin runs the same table
 * through `lazyCommands` (lazy-commands.ts), which imports only the package of the command it runs.
 */
export const commands: CommandTable = {
	...pipelineCommands,
	corpus: { description: group.corpus, subcommands: corpusCommands },
	dedup: { description: group.dedup, subcommands: dedupCommands },
	tokenizer: { description: group.tokenizer, subcommands: tokenizerCommands },
	...tcotCommands,
	kd: { description: group.kd, subcommands: kdCommands },
	...serveCommand,
	...chatCommand,
	...runtimeCommands,
	clo: { description: group.clo, subcommands: cloCommands },
	...probeCommands,
	train: { description: group.train, subcommands: trainCommands },
	eval: { description: group.eval, subcommands: evalCommands },
};
