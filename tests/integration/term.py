"""term.py CMD ARGS...: runs CMD on a terminal of its own (a pty) and types Ctrl-C on it once
"Press Ctrl-C" has appeared, as a person at make run would; prints everything the terminal showed.
Gives up after 300 s. (tests/integration/t_run.sh)"""
import os
import pty
import select
import sys
import time

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
sent = False
t0 = time.time()
while time.time() - t0 < 300:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
    if not sent and b"Press Ctrl-C" in out:
        time.sleep(1)
        os.write(fd, b"\x03")
        sent = True
os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
