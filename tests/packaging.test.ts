import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Issue 16 point 9: what the packages promise about their requirements must hold for what they depend on.
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PACKAGES = readdirSync(join(ROOT, "packages")).filter((name) => existsSync(join(ROOT, "packages", name, "package.json")));

interface Manifest {
	name: string;
	engines?: { node?: string };
	dependencies?: Record<string, string>;
}
const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;

/** Whether a version satisfies an npm engines range (the forms engines fields use: >=, >, <, <=, ^, ~, x, ||). */
function satisfies(version: [number, number, number], range: string): boolean {
	const compare = (a: number[], b: number[]): number => (a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
	const parse = (text: string): number[] => [...text.replace(/[xX*]/g, "0").split("."), "0", "0"].slice(0, 3).map(Number);
	return range.split("||").some((alternative) =>
		alternative
			.trim()
			.replace(/([<>=^~]+)\s+/g, "$1")
			.split(/\s+/)
			.filter(Boolean)
			.every((comparator) => {
				const [, op = "", rest = ""] = /^([<>=^~]*)v?(.*)$/.exec(comparator) ?? [];
				const bound = parse(rest);
				const c = compare(version, bound);
				if (op === ">=") return c >= 0;
				if (op === ">") return c > 0;
				if (op === "<=") return c <= 0;
				if (op === "<") return c < 0;
				if (op === "^") return c >= 0 && version[0] === bound[0];
				if (op === "~") return c >= 0 && version[0] === bound[0] && version[1] === bound[1];
				return /[xX*]/.test(rest) || rest.split(".").length < 3 ? version[0] === bound[0] : c === 0;
			}),
	);
}

describe("package requirements (issue 16 point 9)", () => {
	it("should state one Node.js minimum that every direct dependency supports", () => {
		const minimum = manifest(ROOT).engines?.node;
		expect(minimum).toBe(">=20");
		for (const name of PACKAGES) {
			const dir = join(ROOT, "packages", name);
			const own = manifest(dir);
			expect(own.engines?.node, own.name).toBe(minimum);
			for (const dependency of Object.keys(own.dependencies ?? {})) {
				const required = manifest(join(dir, "node_modules", dependency)).engines?.node;
				if (required === undefined) continue;
				expect(satisfies([20, 0, 0], required), `${own.name} needs Node ${minimum}, but its dependency ${dependency} requires ${required}`).toBe(true);
			}
		}
	});

	it("should tell npm users of every package that installs onnxruntime-node to skip its download script", () => {
		const needsRuntime = (name: string, seen = new Set<string>()): boolean => {
			if (seen.has(name)) return false;
			seen.add(name);
			const dir = PACKAGES.find((p) => manifest(join(ROOT, "packages", p)).name === name);
			if (dir === undefined) return false;
			const dependencies = Object.keys(manifest(join(ROOT, "packages", dir)).dependencies ?? {});
			return dependencies.includes("onnxruntime-node") || dependencies.some((dependency) => needsRuntime(dependency, seen));
		};
		const affected = PACKAGES.filter((dir) => needsRuntime(manifest(join(ROOT, "packages", dir)).name));
		expect(affected).toEqual(expect.arrayContaining(["runtime", "recovery-kd", "clo", "prom-probe", "transllm"]));
		for (const dir of affected) {
			const readme = readFileSync(join(ROOT, "packages", dir, "README.md"), "utf8");
			const installs = readme.split("\n").filter((line) => /\bnpm (install|i)\b/.test(line) && !/cuda12/.test(line));
			expect(installs.length, `${dir}/README.md has no npm install line`).toBeGreaterThan(0);
			for (const line of installs) expect(line, `${dir}/README.md`).toContain("ONNXRUNTIME_NODE_INSTALL=skip");
		}
	});

	it("should read engines ranges as npm does", () => {
		expect(satisfies([20, 0, 0], ">=22.0.0")).toBe(false);
		expect(satisfies([20, 0, 0], ">= 18")).toBe(true);
		expect(satisfies([20, 0, 0], "^18.17.0 || >=20.5.0")).toBe(false);
		expect(satisfies([20, 0, 0], "^14.17.0 || ^16.13.0 || >=18.0.0")).toBe(true);
		expect(satisfies([20, 0, 0], "20.x")).toBe(true);
	});
});
