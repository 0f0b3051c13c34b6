/**
 * Reads a field by a dotted path (`text`, `translation.th`): Hugging Face parallel datasets nest both sides
 * in a `translation` struct. A key that itself contains a dot is found first.
 */
export function getFieldPath(record: Record<string, unknown>, path: string): unknown {
	if (path in record) return record[path];
	let value: unknown = record;
	for (const key of path.split(".")) {
		if (typeof value !== "object" || value === null) return undefined;
		value = (value as Record<string, unknown>)[key];
	}
	return value;
}
