// Headless Chromium from Debian (.ci/setup.d/41-chromium.sh) driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4), so no WebSocket client is needed.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";

export const chromiumPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));

export interface PageCheck {
	/** Console errors, uncaught exceptions and error log entries (failed loads …). */
	errors: string[];
	/** Images that did not load. */
	brokenImages: string[];
	/** Rendered size of every inline SVG. */
	svgs: { width: number; height: number }[];
	text: string;
	png: Buffer;
}

/** Opens a local HTML file in headless Chromium, collects errors, checks images, takes a full-page PNG. */
export async function checkPage(file: string): Promise<PageCheck> {
	if (!chromiumPath) throw new Error("chromium is not installed");
	const profile = mkdtempSync(join(tmpdir(), "transllm-chromium-"));
	const browser = spawn(
		chromiumPath,
		["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`, "--remote-debugging-pipe", "about:blank"],
		{ stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
	);
	const input = browser.stdio[3] as Writable;
	const output = browser.stdio[4] as Readable;
	let buffer = "";
	let nextId = 1;
	const pending = new Map<number, { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void }>();
	const listeners: ((message: { method: string; params: Record<string, unknown>; sessionId?: string }) => void)[] = [];
	output.on("data", (chunk: Buffer) => {
		buffer += chunk.toString("utf8");
		for (let end = buffer.indexOf("\0"); end !== -1; end = buffer.indexOf("\0")) {
			const message = JSON.parse(buffer.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
			buffer = buffer.slice(end + 1);
			if (message.id !== undefined) {
				const waiter = pending.get(message.id);
				pending.delete(message.id);
				if (message.error) waiter?.reject(new Error(message.error.message));
				else waiter?.resolve(message.result ?? {});
			} else if (message.method) for (const listener of listeners) listener({ method: message.method, params: message.params ?? {}, sessionId: message.sessionId });
		}
	});
	const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
		new Promise((resolve, reject) => {
			const id = nextId++;
			pending.set(id, { resolve, reject });
			input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
		});
	const errors: string[] = [];
	listeners.push(({ method, params }) => {
		if (method === "Runtime.consoleAPICalled" && (params.type === "error" || params.type === "assert")) errors.push(`console.${String(params.type)}: ${JSON.stringify(params.args)}`);
		if (method === "Runtime.exceptionThrown") errors.push(`exception: ${JSON.stringify(params.exceptionDetails)}`);
		if (method === "Log.entryAdded" && (params.entry as { level?: string })?.level === "error") errors.push(`log: ${JSON.stringify(params.entry)}`);
	});
	try {
		const { targetId } = (await send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
		const { sessionId } = (await send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
		await Promise.all(["Runtime.enable", "Log.enable", "Page.enable"].map((method) => send(method, {}, sessionId)));
		const loaded = new Promise<void>((resolve) => listeners.push(({ method, sessionId: from }) => method === "Page.loadEventFired" && from === sessionId && resolve()));
		await send("Emulation.setDeviceMetricsOverride", { width: 1100, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
		await send("Page.navigate", { url: pathToFileURL(file).href }, sessionId);
		await loaded;
		const evaluate = async <T>(expression: string): Promise<T> => ((await send("Runtime.evaluate", { expression, returnByValue: true }, sessionId)) as { result: { value: T } }).result.value;
		const brokenImages = await evaluate<string[]>("[...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src)");
		const svgs = await evaluate<{ width: number; height: number }[]>("[...document.querySelectorAll('svg')].map((s) => { const r = s.getBoundingClientRect(); return { width: r.width, height: r.height }; })");
		const text = await evaluate<string>("document.body.innerText");
		const { data } = (await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }, sessionId)) as { data: string };
		await send("Browser.close").catch(() => undefined);
		return { errors, brokenImages, svgs, text, png: Buffer.from(data, "base64") };
	} finally {
		// Chromium's helper processes may still write into the profile for a moment after the browser exits: wait for
		// the exit, then remove it with retries; a leftover temporary profile is no test failure.
		if (browser.exitCode === null && browser.signalCode === null) {
			const exited = new Promise((resolve) => browser.once("exit", resolve));
			browser.kill("SIGKILL");
			await exited;
		}
		try {
			rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
		} catch {
			// left in the temporary folder
		}
	}
}
