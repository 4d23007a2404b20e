"""cputicks.py STACK_DIR [NAME...]: the CPU time used so far (user + system, in clock ticks) by
the named processes of the stack, each with every process below it, printed in the order given.
Names: pg api nginx feedd collector sim; by default "pg api nginx"."""
import os
import sys


def processes():
    """{pid: (ppid, ticks)} of every process now."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        out[int(p)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
    return out


def tree_ticks(procs, root):
    kids = {}
    for pid, (ppid, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += procs.get(p, (0, 0))[1]
        todo += kids.get(p, [])
    return total


def pidfile(path, first_line=False):
    try:
        with open(path) as f:
            return int(f.readline() if first_line else f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


d = sys.argv[1]
# Postgres's own pid file; the others are the stack's records (scripts/stack.sh svc_record:
# DIR/state/NAME holds "pid start-time")
PIDFILES = {"pg": (f"{d}/pg/postmaster.pid", True), "api": (f"{d}/state/api", False),
            "nginx": (f"{d}/state/nginx", False), "feedd": (f"{d}/state/feedd", False),
            "collector": (f"{d}/state/collector", False), "sim": (f"{d}/state/sim", False)}
procs = processes()
roots = [pidfile(*PIDFILES[n]) for n in (sys.argv[2:] or ["pg", "api", "nginx"])]
print(" ".join(str(tree_ticks(procs, r) if r else 0) for r in roots))
