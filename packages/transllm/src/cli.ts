#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { runCli } from "@transllm/core";
import { lazyCommands } from "./lazy-commands.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

const code = await runCli("transllm", lazyCommands, process.argv.slice(2), {
	version,
	description: "transllm: turn an English chat LLM into a chat model in another language (TransLLM, LLaMAX, PROM, CLO).",
});
process.exitCode = code;
