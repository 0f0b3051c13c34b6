import { TransllmError } from "@transllm/core";

/** A graph that a surgery cannot handle; the message says what was looked for and what was found. */
export class UnsupportedGraphError extends TransllmError {
	constructor(message: string) {
		super("E_MODEL", message);
		this.name = "UnsupportedGraphError";
	}
}
