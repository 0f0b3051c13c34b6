// Generates the pages of the docs site that come from the code: a page per package (from its README), the packages
// index, the CLI reference (from the command tables) and the API reference (TypeDoc). `pnpm docs:build` runs it
// before VitePress; the generated files are git-ignored.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeApiReference } from "./api-reference.js";
import { cliPage } from "./cli-page.js";
import { packagePage, packagesIndex } from "./package-pages.js";
import { pipelineDiagram } from "./pipeline-diagram.js";
import { repoRoot, workspacePackages } from "./workspace.js";

const docs = join(repoRoot, "docs");
const packages = workspacePackages();
const started = Date.now();

rmSync(join(docs, "packages"), { recursive: true, force: true });
mkdirSync(join(docs, "packages"), { recursive: true });
writeFileSync(join(docs, "packages", "index.md"), packagesIndex(packages));
for (const entry of packages) writeFileSync(join(docs, "packages", `${entry.dir}.md`), packagePage(entry, packages));
writeFileSync(join(docs, "cli.md"), cliPage());
mkdirSync(join(docs, "public"), { recursive: true });
writeFileSync(join(docs, "public", "pipeline.svg"), pipelineDiagram());
writeFileSync(join(docs, ".vitepress", "packages.json"), `${JSON.stringify(packages.map(({ name, dir }) => ({ name, dir })), null, 2)}\n`);
console.log(`docs: ${packages.length} package pages, CLI reference`);

if (!process.argv.includes("--no-api")) {
	rmSync(join(docs, "api"), { recursive: true, force: true });
	await writeApiReference(packages, join(docs, "api"));
	console.log(`docs: API reference of ${packages.length} packages`);
}
console.log(`docs: generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
