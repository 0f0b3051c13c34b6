// `transllm kd …` from the built package, for the crash-recovery benchmark (run in a child process and killed).
import { runCli } from "@transllm/core";
import { kdCommands, serveCommand } from "@transllm/recovery-kd";

process.exitCode = await runCli("transllm", { kd: { description: "recovery KD", subcommands: kdCommands }, ...serveCommand }, process.argv.slice(2));
