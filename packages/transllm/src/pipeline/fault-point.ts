/**
 * Named points where `TRANSLLM_FAULT=<point>` makes this process kill itself with SIGKILL — a real `kill -9` at an
 * exact moment, for the tests that prove a killed run resumes to byte-identical outputs. Points: `ranks:<stage>`
 * (a rank of a sharded stage finished, others still running), `after:<stage>` (recorded in the lock file, the
 * next stage not started), `report` (report.json written, report.html not yet).
 */
export function faultPoint(name: string): void {
	if (process.env.TRANSLLM_FAULT === name) process.kill(process.pid, "SIGKILL");
}
