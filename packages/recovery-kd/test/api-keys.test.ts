import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { runCli } from "@transllm/core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { keyForEndpoint, kdCommands, OPENAI_KEY_DEFAULTS } from "../src/index.js";

// A chat server on 127.0.0.2: a loopback address this machine answers on, but not one keyForEndpoint treats as this
// machine, so it stands for a third party's host. It records the Authorization header of every request.
let server: Server;
let endpoint: string;
const authorizations: (string | undefined)[] = [];
let dir: string;

beforeAll(async () => {
	server = createServer((request, response) => {
		authorizations.push(request.headers.authorization);
		request.resume();
		request.on("end", () => {
			response.setHeader("content-type", "application/json");
			response.end(JSON.stringify({ id: "x", object: "chat.completion", created: 0, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] }));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.2", resolve));
	endpoint = `http://127.0.0.2:${(server.address() as AddressInfo).port}/v1`;
	dir = await mkdtemp(join(tmpdir(), "kd-keys-"));
	await writeFile(join(dir, "q.jsonl"), `${JSON.stringify({ id: "q1", query: "Hello?" })}\n`);
});
afterAll(async () => {
	await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
	vi.unstubAllEnvs();
	authorizations.length = 0;
});

async function kd(args: string[]): Promise<{ code: number; stderr: string }> {
	const stdout = new PassThrough();
	const stderr = new PassThrough();
	const err: string[] = [];
	stdout.resume();
	stderr.on("data", (chunk) => err.push(String(chunk)));
	const code = await runCli("transllm", { kd: { description: "kd", subcommands: kdCommands } }, ["kd", ...args], { context: { stdout, stderr } });
	return { code, stderr: err.join("") };
}

describe("API keys go only where they were given for (issue 16 point 8)", () => {
	it("should not send OPENAI_API_KEY or TRANSLLM_API_KEY to another host, and say so", async () => {
		vi.stubEnv("OPENAI_API_KEY", "sk-openai-SECRET-1");
		vi.stubEnv("TRANSLLM_API_KEY", "sk-transllm-SECRET-2");
		const run = await kd(["generate", "--queries", join(dir, "q.jsonl"), "--endpoint", endpoint, "--model-name", "m", "--out", join(dir, "a.jsonl"), "--quiet"]);
		expect(run.code, run.stderr).toBe(0);
		expect(authorizations).toHaveLength(1);
		expect(authorizations[0]).not.toMatch(/SECRET/);
		expect(run.stderr).toContain("API key: none sent to 127.0.0.2 (TRANSLLM_API_KEY, OPENAI_API_KEY are set, but not for this host: name the variable with --api-key-env to send it)");
	});

	it("should send the variable named by --api-key-env, naming it and never printing the key", async () => {
		vi.stubEnv("MY_VLLM_KEY", "sk-vllm-SECRET-3");
		vi.stubEnv("OPENAI_API_KEY", "sk-openai-SECRET-1");
		const run = await kd(["generate", "--queries", join(dir, "q.jsonl"), "--endpoint", endpoint, "--model-name", "m", "--out", join(dir, "b.jsonl"), "--api-key-env", "MY_VLLM_KEY", "--quiet"]);
		expect(run.code, run.stderr).toBe(0);
		expect(authorizations).toEqual(["Bearer sk-vllm-SECRET-3"]);
		expect(run.stderr).toContain("API key: MY_VLLM_KEY (--api-key-env) → 127.0.0.2");
		expect(run.stderr).not.toContain("SECRET");
		const unset = await kd(["generate", "--queries", join(dir, "q.jsonl"), "--endpoint", endpoint, "--model-name", "m", "--out", join(dir, "c.jsonl"), "--api-key-env", "NOT_SET_ANYWHERE"]);
		expect(unset.code).toBe(2);
		expect(unset.stderr).toContain("--api-key-env NOT_SET_ANYWHERE: that variable is not set");
	});

	it("should send default keys to their own service and to this machine only", () => {
		const env = { OPENAI_API_KEY: "sk-o", TRANSLLM_API_KEY: "sk-t" };
		expect(keyForEndpoint("https://api.openai.com/v1", OPENAI_KEY_DEFAULTS, undefined, env).key?.name).toBe("OPENAI_API_KEY");
		expect(keyForEndpoint("http://127.0.0.1:8000/v1", OPENAI_KEY_DEFAULTS, undefined, env).key?.name).toBe("TRANSLLM_API_KEY");
		expect(keyForEndpoint("http://localhost:8000/v1", OPENAI_KEY_DEFAULTS, undefined, { OPENAI_API_KEY: "sk-o" }).key?.name).toBe("OPENAI_API_KEY");
		expect(keyForEndpoint("https://vllm.example.com/v1", OPENAI_KEY_DEFAULTS, undefined, env).key).toBeUndefined();
		expect(keyForEndpoint("https://api.openai.com.evil.example/v1", OPENAI_KEY_DEFAULTS, undefined, env).key).toBeUndefined();
	});
});
