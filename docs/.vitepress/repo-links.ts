// Hand-written pages in docs/ link to files of the repository the way GitHub shows them (../packages/x/README.md,
// ../packages/x/src/y.ts). On the site a README is its package page and a docs file its page; any other file has
// no page, so its link becomes its path in code (as the generated package pages do).
import { posix } from "node:path";
import type { MarkdownRenderer } from "vitepress";
import { sitePathOf } from "../generate/package-pages.js";
import type { WorkspacePackage } from "../generate/workspace.js";

export function repoLinks(packages: Pick<WorkspacePackage, "dir">[]) {
	return (md: MarkdownRenderer) => {
		md.core.ruler.push("transllm-repo-links", (state) => {
			const page = (state.env as { relativePath?: string }).relativePath;
			if (!page) return;
			for (const block of state.tokens) {
				const children = block.children ?? [];
				for (let index = 0; index < children.length; index++) {
					const token = children[index];
					if (token?.type !== "link_open") continue;
					const href = token.attrGet("href") ?? "";
					if (/^[a-z]+:|^#|^\//i.test(href) || !/^\.\.?\//.test(href) && !/\.(md|ts|json|mjs|py|yaml|txt)$/.test(href.split("#")[0] ?? "")) continue;
					const repoPath = posix.normalize(posix.join("docs", posix.dirname(page), href));
					if (!repoPath.startsWith("docs/") || !repoPath.split("#")[0]?.endsWith(".md") || repoPath.includes("/packages/")) {
						const site = sitePathOf(repoPath, packages as WorkspacePackage[]);
						if (site) token.attrSet("href", site);
						else {
							const close = children.findIndex((candidate, at) => at > index && candidate.type === "link_close");
							token.type = "html_inline";
							token.content = `<code title="a file of the repository">`;
							token.attrs = null;
							if (close !== -1) Object.assign(children[close] as object, { type: "html_inline", content: `</code> <small>(${md.utils.escapeHtml(repoPath)})</small>` });
						}
					}
				}
			}
		});
	};
}
