import { readFile } from "node:fs/promises";
import { InputError } from "./errors.js";

/** Reads and parses a JSON file; a missing file or bad JSON is an InputError naming the file (and what it is). */
export async function readJsonFile<T = unknown>(path: string, what = "JSON file"): Promise<T> {
	let text: string;
	try {
		text = await readFile(path, "utf8");
	} catch (error) {
		throw new InputError(`cannot read ${what}: ${(error as Error).message}`, { file: path }, { cause: error });
	}
	try {
		return JSON.parse(text) as T;
	} catch (error) {
		throw new InputError(`${what} is not valid JSON: ${(error as Error).message}`, { file: path }, { cause: error });
	}
}
