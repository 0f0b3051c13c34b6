// A static file server for the built site on loopback, as any static host serves it: /x/ → x/index.html,
// a missing file → 404 (with VitePress's 404.html as the body).
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";

const types: Record<string, string> = {
	".html": "text/html; charset=utf-8",
	".js": "text/javascript",
	".css": "text/css",
	".svg": "image/svg+xml",
	".png": "image/png",
	".json": "application/json",
	".woff2": "font/woff2",
	".ico": "image/x-icon",
	".txt": "text/plain",
};

/** The file a URL path maps to in `root`, or undefined. */
export function fileFor(root: string, urlPath: string): string | undefined {
	const path = normalize(decodeURIComponent(urlPath.split(/[?#]/)[0] as string));
	if (path.includes("..")) return undefined;
	const candidates = path.endsWith("/") ? [join(root, path, "index.html")] : [join(root, path), join(root, `${path}.html`), join(root, path, "index.html")];
	return candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

export async function serveStatic(root: string): Promise<{ url: string; server: Server; close(): Promise<void> }> {
	const server = createServer((request, response) => {
		const file = fileFor(root, request.url ?? "/");
		if (!file) {
			response.writeHead(404, { "content-type": types[".html"] });
			const notFound = join(root, "404.html");
			if (existsSync(notFound)) createReadStream(notFound).pipe(response);
			else response.end("not found");
			return;
		}
		response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
		createReadStream(file).pipe(response);
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
