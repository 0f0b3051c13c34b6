/** The one-line descriptions of the command groups this CLI makes of each package's subcommands. */
export const groupDescriptions = {
	corpus: "Corpora: clean target-language text, build parallel data and translation pre-training text, LLaMAX code-switch augmentation",
	dedup: "MinHash LSH near-duplicate removal (TransLLM Sec. 3.1), Thai-aware, out of core",
	tokenizer: "Vocabulary extension by continued BPE that leaves English unchanged, fertility reports, embedding resize",
	kd: "Recovery KD: the chat model answers its own English queries, then the pairs are machine-translated",
	clo: "CLO: cross-lingual preference pairs, their batch layout, and the CLO objective",
	train: "Training hand-off: LLaMA-Factory YAMLs and a TRL script for every TransLLM stage (+ CLO, PROM), the merge, and the vocabulary check",
	eval: "Evaluation: benchmark answers, judged win rates, safety, forgetting, language fidelity, BLEU/chrF++, HTML report (TransLLM Sec. 3–4)",
} as const;
