#!/usr/bin/python3
"""foreground.py CMD ARGS...: runs CMD as the terminal's foreground process group, then gives
the terminal back and exits with CMD's status.

make run uses it so that Ctrl-C reaches scripts/run.sh (and the stack it supervises) but not make:
make, signalled itself, would die of SIGINT (exit 130) even though run.sh stopped cleanly with 0.
Without a terminal on stdin it just runs CMD."""
import os
import signal
import sys


def main():
    argv = sys.argv[1:]
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
        ours = os.tcgetpgrp(tty) == os.getpgrp()
    except OSError:
        ours = False
    if not ours:  # no terminal, or we are not its foreground: nothing to hand over
        os.execvp(argv[0], argv)
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        os.tcsetpgrp(tty, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.close(tty)
        os.execvp(argv[0], argv)
    try:
        os.setpgid(pid, pid)  # also here: whichever of the two runs first
    except OSError:
        pass
    # Ctrl-C goes to the child's group; should one reach us anyway, the child decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status = os.waitpid(pid, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.tcsetpgrp(tty, os.getpgrp())
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


main()
