// The docs site as users get it: `pnpm docs:build` (generated pages, TypeDoc, VitePress, which fails on a dead
// link), then Debian's Chromium (headless, driven by playwright-core) visits every page of the build served over
// loopback: no console error, no failed request, every internal link resolves, local search finds the expected
// page, and screenshots of the home page (light and dark) and one recipe go to .tmp/test-output/docs-site/.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { chromium } from "playwright-core";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, workspacePackages } from "../generate/workspace.js";
import { fileFor, serveStatic } from "./static-server.js";

const docs = join(repoRoot, "docs");
const dist = join(docs, ".vitepress", "dist");
const shots = join(repoRoot, ".tmp", "test-output", "docs-site");
const browserPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const noBrowser = existsSync(browserPath) ? undefined : `${browserPath} is missing (.ci/setup.d/40-chromium.sh installs Debian's chromium): the browser checks are skipped`;

let build: { status: number | null; output: string };

beforeAll(() => {
	const pnpm = process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ["npx", "-y", "pnpm@10"];
	const result = spawnSync(pnpm[0] as string, [...pnpm.slice(1), "run", "docs:build"], { cwd: repoRoot, encoding: "utf8", timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
	build = { status: result.status, output: `${result.stdout}${result.stderr}` };
}, 600_000);

function htmlPages(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const full = join(dir, entry.name);
		if (entry.isDirectory()) return entry.name === "assets" ? [] : htmlPages(full);
		return entry.name.endsWith(".html") && entry.name !== "404.html" ? [full] : [];
	});
}

describe("docs site", () => {
	it("builds with pnpm docs:build (a dead internal link fails it)", () => {
		expect(build.status, build.output.slice(-6000)).toBe(0);
		const pages = htmlPages(dist).map((file) => relative(dist, file));
		for (const entry of workspacePackages()) {
			expect(pages, `the page of ${entry.name}`).toContain(`packages/${entry.dir}.html`);
			expect(pages.some((page) => page.startsWith("api/") && page.endsWith(`${entry.name.split("/").at(-1)}.html`)), `the API page of ${entry.name}`).toBe(true);
		}
		expect(pages).toContain("cli.html");
		expect(pages.filter((page) => page.startsWith("recipes/")).length).toBeGreaterThanOrEqual(5);
	});

	describe.skipIf(noBrowser)("in headless Chromium", () => {
		let context: BrowserContext;
		let site: Awaited<ReturnType<typeof serveStatic>>;
		let profile: string;

		beforeAll(async () => {
			if (build.status !== 0) throw new Error("the site did not build");
			site = await serveStatic(dist);
			profile = mkdtempSync(join(tmpdir(), "transllm-docs-chromium-"));
			context = await chromium.launchPersistentContext(profile, {
				executablePath: browserPath,
				headless: true,
				args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
				viewport: { width: 1280, height: 900 },
			});
			mkdirSync(shots, { recursive: true });
		}, 120_000);

		afterAll(async () => {
			await context?.close();
			await site?.close();
			if (profile) rmSync(profile, { recursive: true, force: true });
		});

		it("visits every page: no console error, no failed request, every internal link resolves", async () => {
			const pages = htmlPages(dist).map((file) => `/${relative(dist, file).split("\\").join("/")}`);
			const problems: string[] = [];
			const links = new Map<string, string>();
			const page = await context.newPage();
			let current = "";
			page.on("console", (message) => {
				if (message.type() === "error") problems.push(`${current}: console error: ${message.text()}`);
			});
			page.on("pageerror", (error) => problems.push(`${current}: page error: ${error.message}`));
			page.on("response", (response) => {
				if (response.status() >= 400) problems.push(`${current}: ${response.status()} for ${response.url()}`);
			});
			// Leaving a page aborts its link prefetches (net::ERR_ABORTED): that is navigation, not a failure.
			page.on("requestfailed", (request) => {
				if (request.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`${current}: request failed: ${request.url()} (${request.failure()?.errorText})`);
			});
			for (const path of pages) {
				current = path;
				const response = await page.goto(`${site.url}${path}`, { waitUntil: "load" });
				if (response?.status() !== 200) problems.push(`${path}: HTTP ${response?.status()}`);
				for (const href of await page.$$eval("a[href]", (anchors) => anchors.map((anchor) => (anchor as unknown as { href: string }).href))) {
					if (href.startsWith(site.url) && !links.has(href.split("#")[0] as string)) links.set(href.split("#")[0] as string, path);
				}
			}
			await page.close();
			for (const [href, from] of links) {
				if (!fileFor(dist, new URL(href).pathname)) problems.push(`${from}: link to ${new URL(href).pathname} resolves to no page`);
			}
			expect(problems).toEqual([]);
			expect(pages.length).toBeGreaterThan(20);
		}, 600_000);

		it.each([
			["MinHash", "/packages/dedup"],
			["fertility", "/packages/tokenizer"],
			["pivot layer", "/packages/prom-probe"],
			["CLO objective", "/packages/clo"],
		])("search for %j lists %s", async (query, expected) => {
			const page = await context.newPage();
			await page.goto(`${site.url}/`, { waitUntil: "load" });
			await page.locator(".VPNavBarSearch button").first().click();
			await page.locator("input.search-input").fill(query);
			await page.waitForSelector(".VPLocalSearchBox ul.results li a", { timeout: 15_000 });
			const hits = await page.$$eval(".VPLocalSearchBox ul.results li a", (anchors) => anchors.map((anchor) => new URL((anchor as unknown as { href: string }).href).pathname));
			await page.close();
			expect(hits.slice(0, 10).map((hit) => hit.replace(/\.html$/, "")), `results for ${query}`).toContain(expected);
		}, 60_000);

		it("writes screenshots of the home page (light and dark) and a recipe", async () => {
			const page = await context.newPage();
			await page.goto(`${site.url}/`, { waitUntil: "networkidle" });
			await page.screenshot({ path: join(shots, "home.png"), fullPage: true });
			await page.emulateMedia({ colorScheme: "dark" });
			await page.evaluate(() => localStorage.setItem("vitepress-theme-appearance", "dark"));
			await page.reload({ waitUntil: "networkidle" });
			expect(await page.locator("html").getAttribute("class")).toMatch(/\bdark\b/);
			await page.screenshot({ path: join(shots, "home-dark.png") });
			await page.emulateMedia({ colorScheme: "light" });
			await page.evaluate(() => localStorage.setItem("vitepress-theme-appearance", "light"));
			await page.goto(`${site.url}/recipes/thai-end-to-end.html`, { waitUntil: "networkidle" });
			await page.screenshot({ path: join(shots, "recipe-thai-end-to-end.png"), fullPage: true });
			await page.close();
			for (const name of ["home.png", "home-dark.png", "recipe-thai-end-to-end.png"]) expect(existsSync(join(shots, name)), name).toBe(true);
		}, 120_000);
	});
});

if (noBrowser) console.warn(noBrowser);
