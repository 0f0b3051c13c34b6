// A PNG of a local HTML file in Debian's headless Chromium, for the pictures of the docs (the report of
// `transllm run`): npx tsx docs/recipes/scripts/screenshot.ts out/thai-run/work/report.html docs/public/recipes/report-thai.png
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
	console.error("usage: screenshot.ts <page.html> <out.png>");
	process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), "transllm-screenshot-"));
const context = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
	headless: true,
	args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
	viewport: { width: 1100, height: 800 },
});
try {
	const page = await context.newPage();
	await page.goto(pathToFileURL(resolve(input)).href, { waitUntil: "load" });
	await page.screenshot({ path: output, fullPage: false });
	console.log(`${input} → ${output}`);
} finally {
	await context.close();
	rmSync(profile, { recursive: true, force: true });
}
