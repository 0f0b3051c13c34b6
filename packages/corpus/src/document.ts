/**
 * One document of a corpus (datatrove's `Document{text, id, metadata}`), with where it was read from so that
 * every drop in an audit file and every error can name its file and line (row, for Parquet).
 */
export interface CorpusDocument {
	id: string;
	text: string;
	/** The other fields of the source record (url, timestamp …), passed through to the output. */
	metadata: Record<string, unknown>;
	file: string;
	/** 1-based line of a text/JSONL file, or 1-based row of a Parquet file. */
	line: number;
}

/**
 * One parallel pair (`source` in `sourceLang`, `target` in `targetLang`), with its provenance. The shape is
 * @transllm/tcot's `ParallelPair` plus `id`, `file` and `line`.
 */
export interface CorpusPair {
	id: string;
	source: string;
	target: string;
	sourceLang: string;
	targetLang: string;
	file: string;
	line: number;
}
