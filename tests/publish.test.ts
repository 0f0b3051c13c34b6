// Packages that publish one by one: every package under packages/ (found on disk) is packed with `pnpm pack`,
// the tarballs are installed with plain npm into an empty project (ONNXRUNTIME_NODE_INSTALL=skip, as the READMEs
// say), each is imported in ESM and in CJS, each README's quick start is extracted and run there, and publint and
// arethetypeswrong check every tarball. One npm install serves every check (it is the expensive part).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { checkPackage, createPackageFromTarballData } from "@arethetypeswrong/core";
import { publint } from "publint";
import { beforeAll, describe, expect, it } from "vitest";
import { quickStartBlocks } from "../docs/generate/code-blocks.js";
import { repoRoot, workspacePackages } from "../docs/generate/workspace.js";
import { quickStartInputs } from "./publish/quickstart-inputs.js";

const packages = workspacePackages();
const work = join(repoRoot, ".tmp", "publish-test");
const packDir = join(work, "pack");
const project = join(work, "project");
const require = createRequire(import.meta.url);
const env: NodeJS.ProcessEnv = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
delete env.BASH_ENV;

function run(command: string, args: string[], cwd: string, timeout = 300_000): { status: number | null; output: string } {
	const result = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 });
	return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}` };
}

/** pnpm as this test was started (`pnpm test` sets npm_execpath), else `npx -y pnpm@10`. */
function pnpm(args: string[], cwd: string) {
	const execpath = process.env.npm_execpath;
	return execpath && /pnpm/.test(execpath) ? run(process.execPath, [execpath, ...args], cwd) : run("npx", ["-y", "pnpm@10", ...args], cwd);
}

const tarballs = new Map<string, string>();

beforeAll(() => {
	rmSync(work, { recursive: true, force: true });
	mkdirSync(packDir, { recursive: true });
	mkdirSync(project, { recursive: true });
	for (const entry of packages) {
		if (!existsSync(join(entry.path, "dist"))) throw new Error(`${entry.name} is not built (run pnpm build first)`);
	}
	// `pnpm pack` turns workspace:* ranges into the packed versions, as `pnpm publish` does.
	const pack = pnpm(["-r", "--filter", "./packages/*", "pack", "--pack-destination", packDir], repoRoot);
	if (pack.status !== 0) throw new Error(`pnpm pack failed:\n${pack.output}`);
	for (const entry of packages) {
		const file = `${entry.name.replace(/^@/, "").replace("/", "-")}-${entry.manifest.version as string}.tgz`;
		if (!existsSync(join(packDir, file))) throw new Error(`pnpm pack wrote no ${file} for ${entry.name}`);
		tarballs.set(entry.name, join(packDir, file));
	}
	writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "transllm-install-check", private: true }, null, 2)}\n`);
	// Every tarball in one install: each package's workspace dependencies are its sibling tarballs.
	const install = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs.values()], project, 600_000);
	if (install.status !== 0) throw new Error(`npm install of the packed tarballs failed:\n${install.output}`);
}, 900_000);

describe("packages publish one by one", () => {
	it("packs every package under packages/", () => {
		expect(packages.length).toBeGreaterThanOrEqual(10);
		for (const entry of packages) expect(statSync(tarballs.get(entry.name) as string).size).toBeGreaterThan(1000);
	});

	it("imports every package in ESM and in CJS, with the same exports", () => {
		const names = JSON.stringify(packages.map((entry) => entry.name));
		const esm = run(process.execPath, ["--input-type=module", "-e", `const out = {}; for (const name of ${names}) out[name] = Object.keys(await import(name)).filter((key) => key !== "default").sort(); console.log(JSON.stringify(out));`], project);
		const cjs = run(process.execPath, ["-e", `const out = {}; for (const name of ${names}) out[name] = Object.keys(require(name)).filter((key) => key !== "default" && key !== "__esModule").sort(); console.log(JSON.stringify(out));`], project);
		expect(esm.status, esm.output).toBe(0);
		expect(cjs.status, cjs.output).toBe(0);
		const esmExports = JSON.parse(esm.output.trim().split("\n").at(-1) as string) as Record<string, string[]>;
		const cjsExports = JSON.parse(cjs.output.trim().split("\n").at(-1) as string) as Record<string, string[]>;
		for (const entry of packages) {
			expect(esmExports[entry.name]?.length, entry.name).toBeGreaterThan(0);
			expect(cjsExports[entry.name], entry.name).toEqual(esmExports[entry.name]);
		}
	});

	it("runs the transllm bin from the install", () => {
		const help = run(join(project, "node_modules", ".bin", "transllm"), ["--help"], project);
		expect(help.status, help.output).toBe(0);
		expect(help.output).toMatch(/corpus/);
	});

	it.each(packages.map((entry) => [entry.name, entry] as const))("runs the quick start of %s's README as written", async (_name, entry) => {
		const blocks = quickStartBlocks(readFileSync(join(entry.path, "README.md"), "utf8"));
		expect(blocks.length, `${entry.name}: the README's "Quick start" has no TypeScript block and none marked runnable`).toBeGreaterThan(0);
		const dir = join(project, "quickstart", entry.dir);
		mkdirSync(dir, { recursive: true });
		const inputs = quickStartInputs[entry.dir];
		if (!inputs) throw new Error(`tests/publish/quickstart-inputs.ts has no inputs for ${entry.name}'s quick start: add them`);
		await inputs(dir, join(work, "cache"));
		const tsx = require.resolve("tsx/esm");
		for (const [index, block] of blocks.entries()) {
			const result =
				block.lang === "sh" || block.lang === "bash"
					? run("bash", ["--norc", "--noprofile", "-eo", "pipefail", "-c", `PATH="${join(project, "node_modules", ".bin")}:$PATH"\n${block.code}`], dir)
					: (writeFileSync(join(dir, `quickstart-${index}.mts`), block.code), run(process.execPath, ["--import", tsx, `quickstart-${index}.mts`], dir));
			expect(result.status, `${entry.name} README line ${block.line}:\n${block.code}\n--- output:\n${result.output.slice(-4000)}`).toBe(0);
		}
	}, 300_000);

	it.each(packages.map((entry) => [entry.name, entry] as const))("%s is clean for publint and arethetypeswrong", async (_name, entry) => {
		const tarball = readFileSync(tarballs.get(entry.name) as string);
		const data = tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) as ArrayBuffer;
		const lint = await publint({ pack: { tarball: data }, level: "suggestion", strict: true });
		expect(lint.messages.map((message) => `${message.type} ${message.code} ${message.path.join(".")}`), `publint ${entry.name}`).toEqual([]);
		const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(data)));
		expect("problems" in analysis ? analysis.problems.map((problem) => `${problem.kind} ${"entrypoint" in problem ? problem.entrypoint : ""}`) : [], `attw ${entry.name}`).toEqual([]);
	});

	it("would release every package (pnpm release:dry-run)", () => {
		const release = pnpm(["run", "release:dry-run"], repoRoot);
		expect(release.status, release.output.slice(-4000)).toBe(0);
		for (const entry of packages) expect(release.output).toContain(`+ ${entry.name}@${entry.manifest.version as string}`);
	});

	it("states each package's installed size in docs/publishing.md (within 15%)", () => {
		const sizes = installedSizes(project, packages.map((entry) => entry.name));
		writeFileSync(join(work, "install-sizes.json"), `${JSON.stringify(sizes, null, 2)}\n`);
		const page = readFileSync(join(repoRoot, "docs", "publishing.md"), "utf8");
		for (const entry of packages) {
			const row = new RegExp(`^\\| \`${entry.name.replace("/", "\\/")}\` \\| ([\\d.]+) MB \\|`, "m").exec(page);
			expect(row, `docs/publishing.md has no install-size row for ${entry.name}; measured ${mb(sizes[entry.name] ?? 0)} MB`).not.toBeNull();
			const stated = Number(row?.[1]);
			const measured = (sizes[entry.name] ?? 0) / 1e6;
			expect(Math.abs(stated - measured) / measured, `${entry.name}: docs say ${stated} MB, measured ${mb(sizes[entry.name] ?? 0)} MB`).toBeLessThan(0.15);
		}
	});
});

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

function directorySize(path: string): number {
	let total = 0;
	for (const entry of readdirSync(path, { withFileTypes: true })) {
		const full = join(path, entry.name);
		if (entry.isDirectory()) total += directorySize(full);
		else if (entry.isFile()) total += statSync(full).size;
	}
	return total;
}

/** Bytes on disk of each package with everything it needs at run time (dependencies, transitively), from the install. */
function installedSizes(root: string, names: string[]): Record<string, number> {
	const sizeCache = new Map<string, number>();
	const folder = (name: string) => join(root, "node_modules", name);
	const manifest = (name: string) => JSON.parse(readFileSync(join(folder(name), "package.json"), "utf8")) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
	const closure = (name: string, seen = new Set<string>()): Set<string> => {
		if (seen.has(name) || !existsSync(folder(name))) return seen;
		seen.add(name);
		const { dependencies = {}, optionalDependencies = {} } = manifest(name);
		for (const dependency of [...Object.keys(dependencies), ...Object.keys(optionalDependencies)]) closure(dependency, seen);
		return seen;
	};
	const own = (name: string) => {
		if (!sizeCache.has(name)) sizeCache.set(name, directorySize(folder(name)));
		return sizeCache.get(name) as number;
	};
	return Object.fromEntries(names.map((name) => [name, [...closure(name)].reduce((sum, dependency) => sum + own(dependency), 0)]));
}
