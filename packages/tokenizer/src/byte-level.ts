/**
 * GPT-2's ByteLevel map (used by Llama-3): each byte is shown as one printable character, so byte-level BPE
 * tokens are strings. Printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.
 */
const BYTE_TO_CHAR: string[] = [];
const CHAR_TO_BYTE = new Map<string, number>();
{
	const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
	let next = 0;
	for (let b = 0; b < 256; b++) {
		const char = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + next++);
		BYTE_TO_CHAR[b] = char;
		CHAR_TO_BYTE.set(char, b);
	}
}

/** The bytes a byte-level token stands for, or undefined when it is not a byte-level string. */
export function byteLevelBytes(token: string): Uint8Array | undefined {
	const out = new Uint8Array(token.length);
	for (let i = 0; i < token.length; i++) {
		const byte = CHAR_TO_BYTE.get(token[i] as string);
		if (byte === undefined) return undefined;
		out[i] = byte;
	}
	return out;
}

const lenient = new TextDecoder("utf-8", { ignoreBOM: true });

/** The text of a byte-level token; incomplete UTF-8 sequences become U+FFFD. */
export function byteLevelText(token: string): string {
	const bytes = byteLevelBytes(token);
	return bytes ? lenient.decode(bytes) : token;
}
