// A docs page per package, made from the package's README (the README is the guide: one text, never two), with
// its links rewritten for the site: a link to another package or a docs page becomes a site link, a link to a
// file of the repository becomes its path in code (the site has no copy of the file).
import { readFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import type { WorkspacePackage } from "./workspace.js";
import { repoRoot } from "./workspace.js";

/** The site path of a repository path, if the site has a page for it. */
export function sitePathOf(repoPath: string, packages: WorkspacePackage[]): string | undefined {
	const [path = "", hash] = repoPath.split("#");
	const anchor = hash ? `#${hash}` : "";
	const clean = path.replace(/\/+$/, "");
	if (clean === "README.md" || clean === "") return `/${anchor}`;
	const pkg = /^packages\/([^/]+)(?:\/README\.md)?$/.exec(clean);
	if (pkg && packages.some((entry) => entry.dir === pkg[1])) return `/packages/${pkg[1]}${anchor}`;
	const doc = /^docs\/(.+)\.md$/.exec(clean);
	if (doc) return `/${doc[1] === "index" ? "" : doc[1]}${anchor}`;
	return undefined;
}

/**
 * Rewrites the relative links of a Markdown file that lives at `fileRepoPath` (repository-relative) for the site.
 * Code blocks are left alone.
 */
export function rewriteLinks(markdown: string, fileRepoPath: string, packages: WorkspacePackage[]): string {
	const dir = posix.dirname(fileRepoPath);
	// A link label may hold a code span ([`@transllm/tcot`](../tcot)): links are matched across code spans.
	return mapOutsideCode(markdown, { keepCodeSpans: false }, (text) =>
		text.replace(/(!?)\[([^\]]*)\]\(([^)\s]+)\)/g, (whole, bang: string, label: string, target: string) => {
			if (/^[a-z]+:|^#|^\//i.test(target)) return whole;
			const repoPath = posix.normalize(posix.join(dir, target));
			const site = sitePathOf(repoPath, packages);
			if (site) return `${bang}[${label}](${site})`;
			return label === repoPath || label === `\`${repoPath}\`` ? `\`${repoPath}\`` : `${label} (\`${repoPath}\`)`;
		}),
	);
}

/**
 * Applies `change` to the prose of a Markdown text: everything outside fenced code blocks and, with `keepCodeSpans`,
 * outside inline code spans too.
 */
export function mapOutsideCode(markdown: string, options: { keepCodeSpans: boolean }, change: (prose: string) => string): string {
	const out: string[] = [];
	let fence: string | undefined;
	let prose: string[] = [];
	const flush = () => {
		if (prose.length === 0) return;
		const text = prose.join("\n");
		if (!options.keepCodeSpans) {
			out.push(change(text));
			prose = [];
			return;
		}
		out.push(
			text
				.split(/(`+[^`]*?`+)/g)
				.map((part, index) => (index % 2 === 1 ? part : change(part)))
				.join(""),
		);
		prose = [];
	};
	for (const line of markdown.split("\n")) {
		const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
		if (fence) {
			out.push(line);
			if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
		} else if (marker) {
			flush();
			fence = marker;
			out.push(line);
		} else prose.push(line);
	}
	flush();
	return out.join("\n");
}

/**
 * Makes prose safe for VitePress, which compiles every page as a Vue template: a `<placeholder>` in prose that is
 * not an HTML tag (`<dir>`, `<lang>`) would be read as an element, `{{` as an interpolation.
 */
export function escapeForVue(markdown: string): string {
	return mapOutsideCode(markdown, { keepCodeSpans: true }, (prose) =>
		prose
			.replace(/<(\/?)([a-z][a-z0-9-]*)?/gi, (whole, slash: string, name: string | undefined, offset: number, text: string) => {
				// An HTML element is kept when it is one (a void tag, or an element closed in the same text): the
				// paper's `<b>` separator in prose is text, `<details>…</details>` stays an element.
				const tag = name?.toLowerCase();
				if (tag && VOID_TAGS.has(tag)) return whole;
				if (tag && HTML_TAGS.has(tag) && (slash || text.includes(`</${tag}>`, offset))) return whole;
				return `&lt;${slash}${name ?? ""}`;
			})
			.replace(/&lt;!--/g, "<!--")
			.replace(/\{\{/g, "&#123;&#123;"),
	);
}

const VOID_TAGS = new Set(["br", "img", "hr"]);
const HTML_TAGS = new Set(["a", "b", "code", "details", "div", "em", "i", "kbd", "p", "pre", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr"]);

/** The site page of one package: its README, links rewritten, with an "edit the README" note. */
export function packagePage(entry: WorkspacePackage, packages: WorkspacePackage[]): string {
	const readmePath = relative(repoRoot, join(entry.path, "README.md")).split("\\").join("/");
	const readme = readFileSync(join(repoRoot, readmePath), "utf8");
	const body = escapeForVue(rewriteLinks(readme, readmePath, packages));
	const api = `[API reference](/api/${apiSlug(entry.name)}) · install: \`npm install ${entry.name}\``;
	return `<!-- generated from ${readmePath} by docs/generate: edit the README, not this page -->\n\n${insertAfterTitle(body, `${api}\n`)}`;
}

/** The folder TypeDoc's markdown plugin gives a package's module: its npm name, scope kept as a folder. */
export function apiSlug(name: string): string {
	return name;
}

function insertAfterTitle(markdown: string, text: string): string {
	const lines = markdown.split("\n");
	const title = lines.findIndex((line) => /^# /.test(line));
	if (title === -1) return `${text}\n${markdown}`;
	lines.splice(title + 1, 0, "", text.trimEnd());
	return lines.join("\n");
}

/** The packages index: one row per package, linking its page and API reference. */
export function packagesIndex(packages: WorkspacePackage[]): string {
	const rows = packages.map((entry) => `| [\`${entry.name}\`](/packages/${entry.dir}) | ${escapeForVue(entry.description.replace(/\|/g, "\\|"))} | [API](/api/${apiSlug(entry.name)}) |`);
	return [
		"<!-- generated by docs/generate from packages/*/package.json -->",
		"",
		"# Packages",
		"",
		"Each package is usable alone; the `transllm` CLI hangs every package's commands. Each page is the package's README.",
		"",
		"| package | what it does | reference |",
		"| --- | --- | --- |",
		...rows,
		"",
	].join("\n");
}
