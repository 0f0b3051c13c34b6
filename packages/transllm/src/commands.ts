import type { CommandTable } from "@transllm/core";
import { probeCommands } from "@transllm/prom-probe";

/**
 * The transllm command table: every package owns its subcommands in its own `src/cli.ts`; this table only
 * names where each one hangs (`transllm tcot …`, `transllm generate`).
 */
export const commands: CommandTable = {
	...probeCommands,
};
