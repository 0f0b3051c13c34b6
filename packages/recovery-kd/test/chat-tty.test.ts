import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLlamaFixture, buildTcotChainFixture } from "@transllm/runtime";
import type { TcotChainFixture } from "@transllm/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `transllm chat` in a real pseudo-terminal: tmux (Debian; .ci/setup.d/42-tmux.sh) runs the binary, send-keys types,
// capture-pane reads the screen.
const tmux = spawnSync("tmux", ["-V"]).status === 0;
if (!tmux) console.warn("chat pty test skipped: tmux is not installed (run .ci/setup.d/42-tmux.sh)");
const socket = `transllm-chat-test-${process.pid}`;
const cli = fileURLToPath(new URL("../../transllm/src/cli.ts", import.meta.url));
const tsx = createRequire(import.meta.url).resolve("tsx");
const QUERY = "ประเทศไทยมีเมืองหลวงชื่ออะไร";

const run = (...args: string[]): string => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
const screen = (session: string): string => run("capture-pane", "-p", "-J", "-S", "-200", "-t", session);
const type = (session: string, ...keys: string[]): void => void run("send-keys", "-t", session, ...keys);

async function waitFor(session: string, test: (text: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const text = screen(session);
		if (test(text)) return text;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
		await new Promise((resolve) => setTimeout(resolve, 150));
	}
}

function startChat(session: string, args: string[]): void {
	const command = [process.execPath, "--conditions=source", "--import", tsx, cli, "chat", ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
	// The shell prints the exit status: tmux's own "Pane is dead" line is not always drawn (3.3a may not reap it).
	run("new-session", "-d", "-s", session, "-x", "160", "-y", "60", `${command}; echo "[exit $?]"`);
	run("set-option", "-t", session, "remain-on-exit", "on");
}

describe.skipIf(!tmux)("transllm chat in a pseudo-terminal (tmux)", () => {
	let dir: string;
	let fixture: TcotChainFixture;
	let plain: string;

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "chat-tty-"));
		fixture = await buildTcotChainFixture({ dir: join(dir, "tcot") });
		plain = join(dir, "plain");
		await buildLlamaFixture({ dir: plain, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, seed: 11 });
	}, 120_000);
	afterAll(() => {
		// Only the tmux server of this test's own socket.
		spawnSync("tmux", ["-L", socket, "kill-server"]);
	});

	it("should show only the target-language answer, the English parts on /think, and keep /history, /save, /reset", async () => {
		startChat("tcot", ["--model", fixture.dir, "--execution-provider", "cpu", "--max-tokens", "64"]);
		await waitFor("tcot", (s) => s.includes("transllm chat with tcot (TCOT, target language th") && s.trimEnd().endsWith(">"), "the banner");
		type("tcot", QUERY, "Enter");
		let text = await waitFor("tcot", (s) => s.includes(`> ${QUERY}\n${fixture.responseTarget}\n>`), "the first answer");
		for (const hidden of ["<EN>", "<RESPONSE>", "<TH>", fixture.queryEn]) expect(text).not.toContain(hidden);
		type("tcot", "/think", "Enter");
		await waitFor("tcot", (s) => s.includes("English parts shown"), "/think");
		type("tcot", "แล้วประชากรล่ะ", "Enter");
		text = await waitFor("tcot", (s) => s.includes(`[English] ${fixture.queryEn}\n\n${fixture.responseEn}\n${fixture.responseTarget}\n>`), "the second answer with its English parts");
		const file = join(dir, "conversation.jsonl");
		type("tcot", "/history", "Enter");
		await waitFor("tcot", (s) => s.includes(`user: ${QUERY}\n`) && s.includes(`assistant: ${fixture.responseTarget}\n`), "/history");
		type("tcot", `/save ${file}`, "Enter");
		await waitFor("tcot", (s) => s.includes(`saved 4 messages to ${file}`), "/save");
		const saved = (await readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Record<string, string>);
		expect(saved.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
		expect(saved[1]).toEqual({ role: "assistant", content: fixture.responseTarget, reasoning_content: `${fixture.queryEn}\n\n${fixture.responseEn}` });
		type("tcot", "/reset", "Enter");
		type("tcot", "/history", "Enter");
		await waitFor("tcot", (s) => s.includes("history cleared") && s.includes("(no history)"), "/reset");
		type("tcot", "C-d");
		await waitFor("tcot", (s) => s.includes("[exit 0]"), "the exit on Ctrl-D");
	}, 120_000);

	it("should stop the streaming answer on Ctrl-C and keep the program running", async () => {
		startChat("plain", ["--model", plain, "--execution-provider", "cpu", "--max-tokens", "100000"]);
		await waitFor("plain", (s) => s.trimEnd().endsWith(">"), "the banner");
		type("plain", "Tell me a long story", "Enter");
		// Wait until the answer is streaming, then interrupt it.
		await waitFor("plain", (s) => (s.split("Tell me a long story\n")[1] ?? "").length > 40, "streamed text");
		type("plain", "C-c");
		await waitFor("plain", (s) => /\[stopped\]\n>\s*$/.test(s), "the stopped answer and a new prompt");
		// Still running: the interrupted turn is in the history and commands answer.
		type("plain", "/history", "Enter");
		await waitFor("plain", (s) => s.includes("> /history\nuser: Tell me a long story"), "the history after Ctrl-C");
		type("plain", "/think", "Enter");
		const text = await waitFor("plain", (s) => s.includes("English parts shown"), "a command after Ctrl-C");
		expect(text).not.toContain("[exit");
		type("plain", "/exit", "Enter");
		await waitFor("plain", (s) => s.includes("[exit 0]"), "the exit");
	}, 120_000);
});
