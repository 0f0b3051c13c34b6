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
