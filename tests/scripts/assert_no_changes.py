"""Fail unless every host in an ansible-playbook log's PLAY RECAP shows changed=0.

Used on the `--check --diff` run of each scenario: on a converged host the role
must predict no change at all.
"""

import re
import sys


def recap_changes(text):
    """Return {host: changed_count} from the last PLAY RECAP in the text."""
    recap = text.rsplit("PLAY RECAP", 1)
    if len(recap) < 2:
        raise SystemExit("no PLAY RECAP in the log: the playbook did not finish")
    changes = {}
    for line in recap[1].splitlines():
        match = re.match(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", line.strip())
        if match:
            changes[match.group(1)] = int(match.group(2))
    if not changes:
        raise SystemExit("PLAY RECAP lists no hosts")
    return changes


def main(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    changes = recap_changes(text)
    changed = {host: count for host, count in changes.items() if count}
    if changed:
        tasks = [line for line in text.splitlines() if line.startswith("changed:")]
        sys.stderr.write("check mode predicted changes on a converged host: %s\n" % changed)
        sys.stderr.write("\n".join(tasks) + "\n")
        return 1
    print("check mode: changed=0 on %s" % ", ".join(sorted(changes)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
