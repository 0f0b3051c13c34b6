import { ConfigError } from "@transllm/core";

/** Environment variables read for an OpenAI-compatible endpoint's key, first set wins. */
export const OPENAI_KEY_VARIABLES = ["TRANSLLM_API_KEY", "OPENAI_API_KEY"] as const;
/** Environment variables read for the Google Cloud Translation key, first set wins. */
export const GOOGLE_KEY_VARIABLES = ["GOOGLE_TRANSLATE_API_KEY", "GOOGLE_API_KEY"] as const;

/** The first non-empty variable of `names`, or undefined. Keys come only from the environment, never from flags. */
export function apiKeyFromEnv(names: readonly string[], env: NodeJS.ProcessEnv = process.env): { name: string; value: string } | undefined {
	for (const name of names) {
		const value = env[name];
		if (value !== undefined && value.trim() !== "") return { name, value: value.trim() };
	}
	return undefined;
}

/** Hosts that are this machine: a key in a default variable may go there (a local `transllm serve`, vLLM …). */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** A key and the variable it came from, or why none is sent. */
export interface EndpointKey {
	key?: { name: string; value: string };
	/** One line for stderr: which variable's key goes where, or why a key that is set is not sent. */
	note?: string;
}

/**
 * The key for one endpoint. `explicit` (`--api-key-env VAR`) names the variable whose key goes to this endpoint,
 * whatever its host. Otherwise a default variable's key goes only to the service it belongs to (`ownHosts`, e.g.
 * api.openai.com for OPENAI_API_KEY) or to this machine: a key set for OpenAI is never sent to a third party's server.
 */
export function keyForEndpoint(
	endpoint: string,
	defaults: readonly { name: string; ownHosts: readonly string[] }[],
	explicit: string | undefined,
	env: NodeJS.ProcessEnv = process.env,
): EndpointKey {
	let host = "";
	try {
		host = new URL(endpoint).hostname.toLowerCase();
	} catch {
		// apiBaseUrl reports the bad URL.
	}
	if (explicit !== undefined) {
		const key = apiKeyFromEnv([explicit], env);
		if (!key) throw new ConfigError(`--api-key-env ${explicit}: that variable is not set in the environment`);
		return { key, note: `API key: ${explicit} (--api-key-env) → ${host}` };
	}
	const set = defaults.filter((variable) => apiKeyFromEnv([variable.name], env));
	const allowed = set.find((variable) => LOOPBACK.has(host) || variable.ownHosts.includes(host));
	if (allowed) return { key: apiKeyFromEnv([allowed.name], env), note: `API key: ${allowed.name} → ${host}` };
	if (set.length > 0) {
		return { note: `API key: none sent to ${host} (${set.map((v) => v.name).join(", ")} ${set.length > 1 ? "are" : "is"} set, but not for this host: name the variable with --api-key-env to send it)` };
	}
	return {};
}

/** Default key variables of OpenAI-compatible endpoints and the hosts each belongs to. */
export const OPENAI_KEY_DEFAULTS = [
	{ name: "TRANSLLM_API_KEY", ownHosts: [] },
	{ name: "OPENAI_API_KEY", ownHosts: ["api.openai.com"] },
] as const;
/** Default key variables of Google Cloud Translation and its host. */
export const GOOGLE_KEY_DEFAULTS = [
	{ name: "GOOGLE_TRANSLATE_API_KEY", ownHosts: ["translation.googleapis.com"] },
	{ name: "GOOGLE_API_KEY", ownHosts: ["translation.googleapis.com"] },
] as const;

/** Like `apiKeyFromEnv`, but a missing key is a ConfigError naming the variables to set. */
export function requireApiKey(names: readonly string[], what: string, env: NodeJS.ProcessEnv = process.env): { name: string; value: string } {
	const key = apiKeyFromEnv(names, env);
	if (!key) throw new ConfigError(`${what} needs an API key: set ${names.join(" or ")} in the environment`);
	return key;
}

/** Replaces every occurrence of the secrets in `text` (error messages, URLs) by `***`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
	let out = text;
	for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join("***");
	return out;
}

/** A URL fit for logs and manifests: no user info, no query string (where keys travel). */
export function redactUrl(url: string): string {
	try {
		const parsed = new URL(url);
		parsed.username = "";
		parsed.password = "";
		parsed.search = "";
		return parsed.toString();
	} catch {
		return "<invalid url>";
	}
}
