/** A one-line summary of a stage's figures: the numbers at the first two levels (`th: read 39, kept 28`). */
export function figuresLine(figures: Record<string, unknown>, max = 8): string {
	const parts: string[] = [];
	const numbers = (value: Record<string, unknown>): string[] =>
		Object.entries(value)
			.filter(([, v]) => typeof v === "number")
			.map(([k, v]) => `${k} ${Number.isInteger(v) ? v : (v as number).toFixed(3)}`);
	const top = numbers(figures);
	if (top.length > 0) parts.push(top.join(", "));
	for (const [key, value] of Object.entries(figures)) {
		if (value !== null && typeof value === "object" && !Array.isArray(value)) {
			const inner = numbers(value as Record<string, unknown>);
			if (inner.length > 0) parts.push(`${key}: ${inner.join(", ")}`);
		}
	}
	const line = parts.join("; ");
	const items = line.split(", ");
	return items.length > max ? `${items.slice(0, max).join(", ")} …` : line;
}
