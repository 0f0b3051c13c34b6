"""Registers a package's command table in the umbrella CLI (packages/transllm): one import, one table entry,
one workspace dependency. Run under `flock /tmp/transllm-shared.lock` when several people edit at once.

usage: python3 scripts/register-command.py <npm-name> <export-name> (--group <name> | --spread)
  --group tcot   → commands.tcot = { description, subcommands: tcotCommands } is expected to be a CliGroup export
  --spread       → the export is a table of top-level commands, spread into the root table
"""
import json, re, sys

npm, export, mode = sys.argv[1], sys.argv[2], sys.argv[3]
group = sys.argv[4] if mode == "--group" else None
path = "packages/transllm/src/commands.ts"
source = open(path).read()
line = f'import {{ {export} }} from "{npm}";\n'
if line not in source:
    source = source.replace('import type { CommandTable } from "@transllm/core";\n', 'import type { CommandTable } from "@transllm/core";\n' + line, 1)
entry = f"\t{group}: {export},\n" if group else f"\t...{export},\n"
if entry not in source:
    source = re.sub(r"(export const commands: CommandTable = \{\n)", lambda m: m.group(1) + entry, source, count=1)
open(path, "w").write(source)
pkg_path = "packages/transllm/package.json"
pkg = json.load(open(pkg_path))
pkg.setdefault("dependencies", {})[npm] = "workspace:*"
pkg["dependencies"] = dict(sorted(pkg["dependencies"].items()))
open(pkg_path, "w").write(json.dumps(pkg, indent=2) + "\n")
print(f"registered {export} from {npm}")
