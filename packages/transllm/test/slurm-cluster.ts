// A single-node Slurm cluster on loopback for the executor test, from Debian 12's slurm-wlm and munge
// (.ci/setup.d/40-slurm.sh installs them): munged as the munge user, `slurmctld -i` and `slurmd` started by hand
// (there is no systemd) with a minimal slurm.conf in a temporary folder, and every daemon stopped by its pid.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";

export interface SlurmCluster {
	/** The environment that points sbatch, squeue and the pipeline at this cluster. */
	env: NodeJS.ProcessEnv;
	dir: string;
	stop(): Promise<void>;
}

const which = (name: string): string | undefined => {
	for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]) if (existsSync(join(dir, name))) return join(dir, name);
	return undefined;
};

/** Why the cluster cannot start here, or undefined. */
export function slurmUnavailable(): string | undefined {
	const missing = ["munged", "slurmctld", "slurmd", "sbatch", "squeue"].filter((name) => !which(name));
	if (missing.length > 0) return `Slurm is not installed (${missing.join(", ")} missing): run .ci/setup.d/40-slurm.sh`;
	if (process.getuid?.() !== 0) return "starting slurmd and munged needs root";
	try {
		execFileSync("id", ["munge"], { stdio: "ignore" });
	} catch {
		return "there is no munge user";
	}
	return undefined;
}

function waitFor(test: () => boolean, what: string, ms = 20_000): Promise<void> {
	const deadline = Date.now() + ms;
	return new Promise((resolve, reject) => {
		const tick = () => {
			if (test()) resolve();
			else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
			else setTimeout(tick, 100);
		};
		tick();
	});
}

export async function startSlurm(): Promise<SlurmCluster> {
	const dir = mkdtempSync(join(tmpdir(), "transllm-slurm-"));
	const munge = join(dir, "munge");
	for (const sub of ["munge", "state", "spool"]) mkdirSync(join(dir, sub));
	const uid = Number(execFileSync("id", ["-u", "munge"], { encoding: "utf8" }).trim());
	const gid = Number(execFileSync("id", ["-g", "munge"], { encoding: "utf8" }).trim());
	chmodSync(dir, 0o755);
	chownSync(munge, uid, gid);
	// Ports of their own, so that two test runs on one machine do not meet.
	const port = 20_000 + Math.floor(Math.random() * 20_000);
	const host = hostname();
	const conf = join(dir, "slurm.conf");
	writeFileSync(
		conf,
		[
			"ClusterName=transllm-test",
			`SlurmctldHost=${host}`,
			`SlurmctldPort=${port}`,
			`SlurmdPort=${port + 1}`,
			"AuthType=auth/munge",
			"CredType=cred/munge",
			`AuthInfo=socket=${join(munge, "munge.socket")}`,
			"SlurmUser=root",
			"SlurmdUser=root",
			`StateSaveLocation=${join(dir, "state")}`,
			`SlurmdSpoolDir=${join(dir, "spool")}`,
			`SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
			`SlurmdPidFile=${join(dir, "slurmd.pid")}`,
			`SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
			`SlurmdLogFile=${join(dir, "slurmd.log")}`,
			"SelectType=select/cons_tres",
			"SelectTypeParameters=CR_Core",
			"ProctrackType=proctrack/linuxproc",
			"TaskPlugin=task/none",
			"JobAcctGatherType=jobacct_gather/none",
			"AccountingStorageType=accounting_storage/none",
			"MpiDefault=none",
			"ReturnToService=2",
			"SchedulerType=sched/builtin",
			"MinJobAge=600",
			`NodeName=${host} CPUs=2 State=UNKNOWN`,
			"PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
			"",
		].join("\n"),
	);
	const daemons: ChildProcess[] = [];
	const start = (command: string, args: string[], options: { uid?: number; gid?: number } = {}) => {
		const child = spawn(command, args, { stdio: "ignore", ...options });
		daemons.push(child);
		return child;
	};
	start(which("munged") as string, ["-F", `--socket=${join(munge, "munge.socket")}`, `--pid-file=${join(munge, "munged.pid")}`, `--log-file=${join(munge, "munged.log")}`, `--seed-file=${join(munge, "munged.seed")}`], { uid, gid });
	await waitFor(() => existsSync(join(munge, "munge.socket")), "munged");
	start(which("slurmctld") as string, ["-D", "-i", "-f", conf]);
	start(which("slurmd") as string, ["-D", "-f", conf]);
	const env = { ...process.env, SLURM_CONF: conf };
	await waitFor(() => {
		try {
			return /idle/.test(execFileSync("sinfo", ["-h", "-o", "%T"], { env, encoding: "utf8" }));
		} catch {
			return false;
		}
	}, "the node to be idle");
	return {
		env,
		dir,
		async stop() {
			// By pid, the daemons this function started and nothing else.
			for (const child of daemons.reverse()) {
				if (child.exitCode !== null || child.pid === undefined) continue;
				const exited = new Promise((resolve) => child.once("exit", resolve));
				process.kill(child.pid, "SIGTERM");
				await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
				if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
			}
		},
	};
}
