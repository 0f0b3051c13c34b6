/**
 * GPT-2's byte-level alphabet (the ByteLevel pre-tokenizer of GPT-2 and Llama-3): every byte is shown as one
 * printable character, so byte-level BPE tokens are strings. Printable Latin-1 bytes map to themselves, the
 * rest to U+0100 onwards, in byte order.
 */
export const BYTE_LEVEL_ALPHABET: readonly string[] = (() => {
	const table: string[] = [];
	const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
	let next = 0;
	for (let b = 0; b < 256; b++) table.push(String.fromCharCode(printable(b) ? b : 256 + next++));
	return table;
})();

const CHAR_TO_BYTE = new Map(BYTE_LEVEL_ALPHABET.map((char, byte) => [char, byte]));

/** A text's UTF-8 bytes spelled in the byte-level alphabet (how a byte-level vocabulary stores it). */
export function toByteLevel(text: string): string {
	let out = "";
	for (const byte of Buffer.from(text, "utf8")) out += BYTE_LEVEL_ALPHABET[byte] as string;
	return out;
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
