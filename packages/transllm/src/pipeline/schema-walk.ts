/** A node of the config schema as the walkers below read it. */
export interface SchemaNode {
	type?: string;
	enum?: readonly unknown[];
	const?: unknown;
	default?: unknown;
	description?: string;
	properties?: Record<string, SchemaNode>;
	additionalProperties?: SchemaNode | boolean;
	items?: SchemaNode;
	required?: readonly string[];
	minimum?: number;
	maximum?: number;
	pattern?: string;
	format?: string;
}

/** The type of a schema node in words (`integer ≥ 1`, `"local" | "slurm"`, `list of string`). */
export function typeText(node: SchemaNode): string {
	if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(" | ");
	if (node.const !== undefined) return JSON.stringify(node.const);
	if (node.type === "array") return `list of ${node.items ? typeText(node.items) : "any"}`;
	if (node.type === "object" && node.additionalProperties && typeof node.additionalProperties === "object" && !node.properties) return "map: language code → object";
	const bounds = [node.minimum !== undefined ? `≥ ${node.minimum}` : "", node.maximum !== undefined ? `≤ ${node.maximum}` : ""].filter(Boolean).join(", ");
	return `${node.type ?? "any"}${bounds ? ` (${bounds})` : ""}${node.format ? ` (${node.format})` : ""}`;
}
