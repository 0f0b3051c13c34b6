// The published packages of the workspace, found on disk, so that every generated page, reference and publishing
// check picks up a package the day it is added (no list to keep in step).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface WorkspacePackage {
	/** npm name, e.g. `@transllm/core`. */
	name: string;
	/** Folder under packages/, e.g. `core`: also the slug of its docs page. */
	dir: string;
	/** Absolute path of the package folder. */
	path: string;
	description: string;
	/** Workspace packages it depends on at run time (`dependencies` with `workspace:`). */
	workspaceDependencies: string[];
	/** The package's own CLI, if it has a `bin`. */
	bin: Record<string, string>;
	manifest: Record<string, unknown>;
}

/** Every non-private package under packages/, in the order of the umbrella's dependency list (pipeline order). */
export function workspacePackages(root = repoRoot): WorkspacePackage[] {
	const packagesDir = join(root, "packages");
	const found = readdirSync(packagesDir, { withFileTypes: true })
		.filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, "package.json")))
		.map((entry) => {
			const path = join(packagesDir, entry.name);
			const manifest = JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as Record<string, unknown>;
			const dependencies = (manifest.dependencies ?? {}) as Record<string, string>;
			return {
				name: manifest.name as string,
				dir: entry.name,
				path,
				description: (manifest.description as string | undefined) ?? "",
				workspaceDependencies: Object.entries(dependencies)
					.filter(([, range]) => range.startsWith("workspace:"))
					.map(([name]) => name),
				bin: typeof manifest.bin === "string" ? { [manifest.name as string]: manifest.bin } : ((manifest.bin ?? {}) as Record<string, string>),
				manifest,
			};
		})
		.filter((entry) => entry.manifest.private !== true);
	// @transllm/core first, the umbrella CLI last, the rest by name: a stable order for the sidebar and tables.
	const rank = (entry: WorkspacePackage) => (entry.name === "@transllm/core" ? 0 : entry.bin && Object.keys(entry.bin).length > 0 && !entry.name.startsWith("@") ? 2 : 1);
	return found.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** A package and every workspace package it needs at run time, transitively (dependencies first). */
export function withWorkspaceDependencies(names: string[], all = workspacePackages()): WorkspacePackage[] {
	const byName = new Map(all.map((entry) => [entry.name, entry]));
	const ordered: WorkspacePackage[] = [];
	const visit = (name: string) => {
		const entry = byName.get(name);
		if (!entry || ordered.includes(entry)) return;
		for (const dependency of entry.workspaceDependencies) visit(dependency);
		ordered.push(entry);
	};
	for (const name of names) visit(name);
	return ordered;
}
