// The Translation v2 loopback server in its own process (so that client and server do not share one thread),
// answering with Thai UDHR text after `latency` ms. Prints its endpoint on stdout; runs until killed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { startGoogleTranslateLoopbackServer } from "@transllm/recovery-kd";

const latencyMs = Number(process.argv[2] ?? 0);
const root = join(dirname(createRequire(import.meta.url).resolve("udhr")), "declaration");
const thai = [...readFileSync(join(root, "tha.html"), "utf8").matchAll(/<p>([\s\S]*?)<\/p>/g)].map((m) => m[1].replace(/<[^>]+>/g, "").trim());
const hash = (text) => {
	let h = 2166136261;
	for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
	return h >>> 0;
};
const translate = (text) => `${/^\s*/.exec(text)[0]}${thai[hash(text) % thai.length].slice(0, Math.max(12, text.trim().length))}${/\s*$/.exec(text)[0]}`;
const server = await startGoogleTranslateLoopbackServer({ translate, apiKey: "bench-key", latencyMs });
console.log(server.endpoint);
