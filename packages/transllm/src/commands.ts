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

/**
 * The transllm command table: every package owns its subcommands in its own `src/cli.ts`; this table only
 * names where each one hangs (`transllm tcot …`, `transllm generate`), in the order of the TransLLM pipeline, after
 * the pipeline's own `init`, `run` and `status`, which call the same packages' APIs.
 */
export const commands: CommandTable = {
	...pipelineCommands,
	corpus: { description: "Corpora: clean target-language text, build parallel data and translation pre-training text, LLaMAX code-switch augmentation", subcommands: corpusCommands },
	dedup: { description: "MinHash LSH near-duplicate removal (TransLLM Sec. 3.1), Thai-aware, out of core", subcommands: dedupCommands },
	tokenizer: { description: "Vocabulary extension by continued BPE that leaves English unchanged, fertility reports, embedding resize", subcommands: tokenizerCommands },
	...tcotCommands,
	kd: { description: "Recovery KD: the chat model answers its own English queries, then the pairs are machine-translated", subcommands: kdCommands },
	...serveCommand,
	...chatCommand,
	...runtimeCommands,
	clo: { description: "CLO: cross-lingual preference pairs, their batch layout, and the CLO objective", subcommands: cloCommands },
	...probeCommands,
	train: { description: "Training hand-off: LLaMA-Factory YAMLs and a TRL script for every TransLLM stage (+ CLO, PROM), the merge, and the vocabulary check", subcommands: trainCommands },
	eval: { description: "Evaluation: benchmark answers, judged win rates, safety, forgetting, language fidelity, BLEU/chrF++, HTML report (TransLLM Sec. 3–4)", subcommands: evalCommands },
};
