import { InputError } from "@transllm/core";

/**
 * Parses RFC 4180 CSV (quoted fields with doubled quotes and line breaks inside, CRLF or LF): the rows with the
 * 1-based line each starts on. AdvBench's harmful_behaviors.csv is this shape (`goal,target`).
 */
export function parseCsv(text: string, file: string): { fields: string[]; line: number }[] {
	const rows: { fields: string[]; line: number }[] = [];
	let fields: string[] = [];
	let field = "";
	let quoted = false;
	let line = 1;
	let rowLine = 1;
	let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
	const endRow = (): void => {
		fields.push(field);
		if (!(fields.length === 1 && fields[0] === "")) rows.push({ fields, line: rowLine });
		fields = [];
		field = "";
	};
	for (; i < text.length; i++) {
		const c = text[i] as string;
		if (quoted) {
			if (c === '"') {
				if (text[i + 1] === '"') {
					field += '"';
					i++;
				} else quoted = false;
			} else {
				if (c === "\n") line++;
				field += c;
			}
			continue;
		}
		if (c === '"' && field === "") quoted = true;
		else if (c === ",") {
			fields.push(field);
			field = "";
		} else if (c === "\n" || c === "\r") {
			if (c === "\r" && text[i + 1] === "\n") i++;
			endRow();
			line++;
			rowLine = line;
		} else field += c;
	}
	if (quoted) throw new InputError("unterminated quoted field", { file, line: rowLine });
	if (field !== "" || fields.length > 0) endRow();
	return rows;
}
