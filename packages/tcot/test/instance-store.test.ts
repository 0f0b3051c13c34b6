import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InstanceStore, storedText } from "../src/index.js";

// The store joins a run's pieces, each escaped alone; the text must be JSON.stringify's of the joined text,
// also where the parts split a surrogate pair (an emoji cut between a template's words and the source text).
describe("InstanceStore", () => {
	const piece = fc.oneof(fc.string({ maxLength: 5, unit: "binary" }), fc.constantFrom("\ud83d", "\ude00", "😀", '"', "\\", "\n", "\u0001", "\u2028", "ไทย", ""));

	it("should write exactly the JSON escape of the joined texts, split pairs included, and read them back", () => {
		fc.assert(
			fc.property(fc.array(fc.tuple(piece, fc.boolean()), { minLength: 1, maxLength: 8 }), fc.array(piece, { maxLength: 3 }), (parts, response) => {
				const store = new InstanceStore();
				// A part is either a literal run (a plain string) or a record text (escaped once by storedText).
				const query = parts.map(([text, literal]) => (literal ? text : storedText(text)));
				const index = store.add({ idHead: "r", idTail: ":x", kind: "translation", lang: "th", group: "r", query, response: response.map(storedText) });
				const joined = parts.map(([text]) => text).join("");
				const escaped = store.appendEscaped(index, "query", "");
				expect(escaped).toBe(JSON.stringify(joined).slice(1, -1));
				expect(escaped.length).toBeLessThanOrEqual(store.escapedLength(index));
				expect(store.instance(index)).toEqual({ id: "r:x", kind: "translation", lang: "th", query: joined, response: response.join(""), group: "r" });
			}),
			{ numRuns: 300 },
		);
	});
});
