import type { CliCommand, CliGroup, CommandTable } from "@transllm/core";
import { commandIndex } from "./command-index.js";
import { groupDescriptions as group } from "./group-descriptions.js";

/** Each package's part of `commands` (commands.ts), imported when one of its commands runs. */
export const commandSources = {
	pipeline: async () => (await import("./pipeline/commands.js")).pipelineCommands,
	corpus: async () => ({ corpus: { description: group.corpus, subcommands: (await import("@transllm/corpus")).corpusCommands } }),
	dedup: async () => ({ dedup: { description: group.dedup, subcommands: (await import("@transllm/dedup")).dedupCommands } }),
	tokenizer: async () => ({ tokenizer: { description: group.tokenizer, subcommands: (await import("@transllm/tokenizer")).tokenizerCommands } }),
	tcot: async () => (await import("@transllm/tcot")).tcotCommands,
	"recovery-kd": async () => {
		const { kdCommands, serveCommand, chatCommand } = await import("@transllm/recovery-kd");
		return { kd: { description: group.kd, subcommands: kdCommands }, ...serveCommand, ...chatCommand };
	},
	runtime: async () => (await import("@transllm/runtime")).runtimeCommands,
	clo: async () => ({ clo: { description: group.clo, subcommands: (await import("@transllm/clo")).cloCommands } }),
	"prom-probe": async () => (await import("@transllm/prom-probe")).probeCommands,
	train: async () => ({ train: { description: group.train, subcommands: (await import("@transllm/train")).trainCommands } }),
	eval: async () => ({ eval: { description: group.eval, subcommands: (await import("@transllm/eval")).evalCommands } }),
} satisfies Record<string, () => Promise<CommandTable>>;

export type CommandSource = keyof typeof commandSources;

/**
 * `commands` as the bin runs it: each top-level command, with the description its help lists, loads its package
 * only when it is run (or its help is asked for). `transllm tokenizer extend` starts with core and the tokenizer,
 * not all eleven packages: start-up is paid by every CLI process and every Slurm task.
 */
export const lazyCommands: CommandTable = Object.fromEntries(
	Object.entries(commandIndex).map(([name, { description, source }]) => [
		name,
		{
			description,
			load: async (): Promise<CliCommand | CliGroup> => {
				const table: CommandTable = await commandSources[source]();
				const entry = table[name];
				if (!entry || "load" in entry) throw new Error(`transllm's command index is stale: ${source} has no command "${name}" (run \`pnpm --filter transllm docs\`)`);
				return entry;
			},
		},
	]),
);
