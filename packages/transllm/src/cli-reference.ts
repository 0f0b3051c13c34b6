import { helpFor } from "@transllm/core";
import type { CliGroup, CommandTable } from "@transllm/core";

function leafPaths(table: CommandTable, prefix: string[] = []): string[][] {
	return Object.entries(table).flatMap(([name, entry]) =>
		"subcommands" in entry ? leafPaths((entry as CliGroup).subcommands, [...prefix, name]) : [[...prefix, name]],
	);
}

/**
 * The CLI reference in Markdown: the help text of every command, generated from the same table `--help` uses,
 * so that the README cannot drift from the CLI.
 */
export function cliReference(table: CommandTable): string {
	return leafPaths(table)
		.map((path) => {
			const help = helpFor("transllm", table, path).trimEnd();
			return `### \`transllm ${path.join(" ")}\`\n\n\`\`\`text\n${help}\n\`\`\``;
		})
		.join("\n\n");
}

/** Replaces the text between the reference markers of a README. */
export function withCliReference(readme: string, table: CommandTable): string {
	const begin = "<!-- cli-reference:begin -->";
	const end = "<!-- cli-reference:end -->";
	const from = readme.indexOf(begin);
	const to = readme.indexOf(end);
	if (from === -1 || to === -1) throw new Error(`the README has no ${begin} … ${end} markers`);
	return `${readme.slice(0, from + begin.length)}\n${cliReference(table)}\n${readme.slice(to)}`;
}
