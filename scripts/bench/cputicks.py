"""cputicks.py STACK_DIR: the CPU time used so far (user + system, in clock ticks) by the stack's
Postgres, kbook-api and nginx, each with every process below it, printed as "pg api nginx"."""
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
            return int(f.readline() if first_line else f.read())
    except (OSError, ValueError):
        return 0


d = sys.argv[1]
procs = processes()
roots = [pidfile(f"{d}/pg/postmaster.pid", True), pidfile(f"{d}/run/api.pid"), pidfile(f"{d}/run/nginx.pid")]
print(" ".join(str(tree_ticks(procs, r) if r else 0) for r in roots))
