// Prints vitest's totals as the plain closing line CI reads: "N passed, N failed".
import { readFileSync } from "node:fs";

const path = process.argv[2] ?? ".vitest-report.json";
let report;
try {
	report = JSON.parse(readFileSync(path, "utf8"));
} catch {
	console.log("0 passed, 1 failed");
	console.error(`no vitest JSON report at ${path}: the build, the type check or vitest itself failed before any test ran`);
	process.exit(0);
}
const failed = report.numFailedTests + (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
console.log(`${report.numPassedTests} passed, ${failed} failed`);
