#!/usr/bin/env node
// transllm's bin. A committed file rather than dist/cli.js itself: pnpm links a bin only when its file exists,
// and in a clone `pnpm install` runs before the first build, so a bin pointing into dist/ would never be linked.
try {
	await import("../dist/cli.js");
} catch (error) {
	if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/cli.js")) {
		console.error("transllm is not built yet: run `npx -y pnpm@10 build` in the repository first");
		process.exit(1);
	}
	throw error;
}
