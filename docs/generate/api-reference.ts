// The API reference: TypeDoc over every package's src/index.ts (so every public export and its TSDoc), written as
// Markdown pages by typedoc-plugin-markdown with the VitePress theme (which also writes the sidebar).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Application, LogLevel } from "typedoc";
import type { WorkspacePackage } from "./workspace.js";
import { repoRoot } from "./workspace.js";

/** Writes docs/api/ and returns the number of warnings TypeDoc reported. */
export async function writeApiReference(packages: WorkspacePackage[], outDir: string): Promise<void> {
	const tsconfig = join(repoRoot, "docs", "generate", "tsconfig.api.json");
	writeFileSync(
		tsconfig,
		`${JSON.stringify(
			{
				extends: "../../tsconfig.base.json",
				compilerOptions: { noEmit: true, rootDir: "../.." },
				include: packages.map((entry) => `../../packages/${entry.dir}/src`),
			},
			null,
			2,
		)}\n`,
	);
	const app = await Application.bootstrapWithPlugins({
		entryPoints: packages.map((entry) => join(entry.path, "src", "index.ts")),
		entryPointStrategy: "resolve",
		tsconfig,
		plugin: ["typedoc-plugin-markdown", "typedoc-vitepress-theme"],
		out: outDir,
		docsRoot: join(repoRoot, "docs"),
		readme: "none",
		name: "API reference",
		excludePrivate: true,
		excludeInternal: true,
		excludeExternals: true,
		skipErrorChecking: true,
		disableSources: true,
		hideGenerator: true,
		logLevel: LogLevel.Warn,
		// typedoc-plugin-markdown: a page per module and per class/interface/function group, flat file names.
		outputFileStrategy: "modules",
		entryFileName: "index",
		useCodeBlocks: true,
		expandObjects: false,
		parametersFormat: "table",
		interfacePropertiesFormat: "table",
		classPropertiesFormat: "table",
		typeDeclarationFormat: "table",
		sanitizeComments: true,
	} as Parameters<typeof Application.bootstrapWithPlugins>[0]);
	const project = await app.convert();
	if (!project) throw new Error("TypeDoc could not convert the packages (see the messages above)");
	// TypeDoc names a module by its path ("core/src"); users know it by its npm name.
	for (const module of project.children ?? []) {
		const entry = packages.find((candidate) => module.name === `${candidate.dir}/src` || module.name === candidate.dir);
		if (entry) module.name = entry.name;
	}
	await app.generateOutputs(project);
}
