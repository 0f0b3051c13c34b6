// Fenced code blocks of a Markdown file, with their info string, for the doc tests: a block whose info string
// holds the word `runnable` (```sh runnable) is run in CI exactly as written.

export interface CodeBlock {
	/** The language: the first word of the info string (`sh`, `ts`). */
	lang: string;
	/** The words after the language (`runnable`, `[title]`). */
	meta: string[];
	code: string;
	/** 1-based line of the opening fence. */
	line: number;
	/** The nearest heading above the block ("Quick start"). */
	section: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
	const blocks: CodeBlock[] = [];
	const lines = markdown.split("\n");
	let section = "";
	for (let index = 0; index < lines.length; index++) {
		const line = lines[index] as string;
		const heading = /^#{1,6}\s+(.*)$/.exec(line);
		if (heading) section = (heading[1] as string).trim();
		const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(line);
		if (!open) continue;
		const fence = open[2] as string;
		const body: string[] = [];
		let end = index + 1;
		while (end < lines.length && !(lines[end] as string).trim().startsWith(fence)) body.push(lines[end++] as string);
		blocks.push({ lang: (open[3] as string).toLowerCase(), meta: (open[4] as string).split(/\s+/).filter(Boolean), code: body.join("\n"), line: index + 1, section });
		index = end;
	}
	return blocks;
}

export const isRunnable = (block: CodeBlock): boolean => block.meta.includes("runnable");

/** The blocks of a README's quick start that the publishing test runs: its TypeScript blocks and any marked runnable. */
export function quickStartBlocks(readme: string): CodeBlock[] {
	return codeBlocks(readme).filter((block) => /^quick start/i.test(block.section) && (["ts", "typescript", "js", "mjs"].includes(block.lang) || isRunnable(block)));
}
