// Doc tests: every code block marked `runnable` in the hand-written docs pages is run as written, in page order,
// from the repository root (as the recipes say), with `transllm` on PATH meaning the built CLI; and every relative
// link in the docs, the root README and the package READMEs resolves to a file of the repository. A page whose front
// matter lists Python modules (`python: [torch, trl]`) runs with the Python reference's interpreter first on PATH
// (as `python`), and is skipped, saying why, where that interpreter lacks them.
// (README quick starts run in tests/publish.test.ts, against the packed packages.)
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, posix, relative } from "node:path";
import { pythonRef } from "@transllm/python-ref";
import { describe, expect, it } from "vitest";
import { codeBlocks, isRunnable } from "../generate/code-blocks.js";
import { mapOutsideCode, sitePathOf } from "../generate/package-pages.js";
import { repoRoot, workspacePackages } from "../generate/workspace.js";

const docs = join(repoRoot, "docs");
// Generated pages (from READMEs and code) are checked where their sources are.
const generated = new Set(["packages", "api", "cli.md", "node_modules", "test", "generate", ".vitepress", "public"]);

function markdownFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		if (dir === docs && generated.has(entry.name)) return [];
		const full = join(dir, entry.name);
		if (entry.isDirectory()) return entry.name === "node_modules" ? [] : markdownFiles(full);
		return entry.name.endsWith(".md") ? [full] : [];
	});
}

const pages = markdownFiles(docs).map((file) => relative(repoRoot, file).split("\\").join("/"));
const runnablePages = pages.filter((page) => codeBlocks(readFileSync(join(repoRoot, page), "utf8")).some(isRunnable));

// `transllm` as the recipes mean it: the built CLI of this checkout.
const bin = join(repoRoot, ".tmp", "doctest-bin");
mkdirSync(bin, { recursive: true });
writeFileSync(join(bin, "transllm"), `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, "packages", "transllm", "dist", "cli.js")}" "$@"\n`);
chmodSync(join(bin, "transllm"), 0o755);
const tsx = createRequire(join(docs, "package.json")).resolve("tsx/esm");

/** The Python modules a page's front matter says its blocks need (`python: [torch, trl]`). */
function pythonModules(markdown: string): string[] {
	const front = /^---\n([\s\S]*?)\n---\n/.exec(markdown)?.[1] ?? "";
	const list = /^python:\s*\[([^\]]*)\]\s*$/m.exec(front)?.[1];
	return list ? list.split(",").map((name) => name.trim()).filter(Boolean) : [];
}

// Pages whose Python modules are missing here: skipped, with the reason printed.
const pythonPath = new Map<string, string>();
const withoutPython = runnablePages.filter((page) => {
	const modules = pythonModules(readFileSync(join(repoRoot, page), "utf8"));
	if (modules.length === 0) return false;
	const { ref, reason } = pythonRef(modules);
	if (ref) pythonPath.set(page, dirname(ref.python));
	else console.warn(`doc tests: ${page} skipped — ${reason}`);
	return !ref;
});

describe("doc tests: runnable blocks", () => {
	it("finds runnable recipes", () => {
		expect(runnablePages.filter((page) => page.startsWith("docs/recipes/")).length).toBeGreaterThanOrEqual(5);
	});

	if (withoutPython.length > 0) it.skip.each(withoutPython)("%s runs as written (needs the Python reference)", () => {});

	it.each(runnablePages.filter((page) => !withoutPython.includes(page)))("%s runs as written", (page) => {
		const path = [bin, pythonPath.get(page), process.env.PATH].filter(Boolean).join(":");
		const blocks = codeBlocks(readFileSync(join(repoRoot, page), "utf8")).filter(isRunnable);
		for (const [index, block] of blocks.entries()) {
			let result;
			if (block.lang === "sh" || block.lang === "bash") {
				result = spawnSync("bash", ["--norc", "--noprofile", "-eo", "pipefail", "-c", block.code], {
					cwd: repoRoot,
					encoding: "utf8",
					env: { ...process.env, PATH: path, TRANSLLM_NO_PROGRESS: "1" },
					timeout: 300_000,
				});
			} else {
				// TypeScript blocks run as a module inside docs/, where every package resolves.
				const file = join(docs, ".vitepress", "cache", "doctest", `${page.replace(/[/.]/g, "_")}-${index}.mts`);
				mkdirSync(dirname(file), { recursive: true });
				writeFileSync(file, block.code);
				result = spawnSync(process.execPath, ["--import", tsx, file], { cwd: repoRoot, encoding: "utf8", timeout: 300_000 });
			}
			expect(result.status, `${page}:${block.line} (${block.section})\n${block.code}\n--- output:\n${`${result.stdout}${result.stderr}`.slice(-4000)}`).toBe(0);
		}
	}, 600_000);
});

describe("doc tests: links", () => {
	const packages = workspacePackages();
	const sources = ["README.md", ...pages, ...packages.map((entry) => relative(repoRoot, join(entry.path, "README.md")).split("\\").join("/"))];

	it.each(sources)("every relative link of %s resolves", (source) => {
		const text = readFileSync(join(repoRoot, source), "utf8");
		const broken: string[] = [];
		mapOutsideCode(text, { keepCodeSpans: false }, (prose) => {
			for (const match of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
				const target = match[1] as string;
				if (/^[a-z]+:|^#/i.test(target)) continue;
				const path = (target.split("#")[0] as string).replace(/\/$/, "");
				// Site links (/recipes/x) in docs pages: a page of the site (hand-written or generated).
				if (path.startsWith("/")) {
					const ok = [`docs${path}.md`, `docs${path}/index.md`, `docs/public${path}`].some((candidate) => existsSync(join(repoRoot, candidate))) || /^\/(packages|api)(\/|$)|^\/cli$|^\/$|^$/.test(path) || path === "/pipeline.svg";
					if (!ok) broken.push(target);
					continue;
				}
				const resolved = posix.normalize(posix.join(posix.dirname(source), path));
				if (!existsSync(join(repoRoot, resolved)) && !sitePathOf(resolved, packages)) broken.push(target);
			}
			return prose;
		});
		expect(broken, source).toEqual([]);
	});
});

describe("doc tests: every recipe is listed", () => {
	const slugs = readdirSync(join(docs, "recipes"))
		.filter((name) => name.endsWith(".md") && name !== "index.md")
		.map((name) => name.slice(0, -3));
	const listed = (text: string) => new Set([...text.matchAll(/\/recipes\/([a-z0-9-]+)/g)].map((match) => match[1] as string));

	it.each([
		["the sidebar (docs/.vitepress/config.ts)", join(docs, ".vitepress", "config.ts"), /\["[^"]+", "([a-z0-9-]+)"\]/g],
		["the recipes page (docs/recipes/index.md)", join(docs, "recipes", "index.md"), null],
		["the home page (docs/index.md)", join(docs, "index.md"), null],
	] as const)("in %s", (_, file, pattern) => {
		const text = readFileSync(file, "utf8");
		const found = pattern ? new Set([...text.matchAll(pattern)].map((match) => match[1] as string)) : listed(text);
		expect(slugs.filter((slug) => !found.has(slug)), file).toEqual([]);
	});
});
