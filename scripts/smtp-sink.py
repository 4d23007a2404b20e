#!/usr/bin/python3
"""smtp-sink: a real SMTP server (Debian's python3-aiosmtpd) for make run and make test, which
keeps every message it accepts as one file in a Maildir-like directory: written under DIR/tmp,
then renamed into DIR/new (so a reader never sees half a message). The tests read the mail
kbook-mailer sent from there; make run prints where it is.

usage: /usr/bin/python3 scripts/smtp-sink.py --port PORT --dir DIR [--fail-first N]
  --fail-first N: answer the first N messages with 451 (a temporary failure), to test retries.
"""
import argparse
import asyncio
import os
import signal
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, fail_first):
        self.dir = directory
        self.fail_left = fail_first
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 temporary failure (smtp-sink --fail-first)"
        self.n += 1
        name = "%d.%d.%d.eml" % (time.time_ns(), os.getpid(), self.n)
        tmp = os.path.join(self.dir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.dir, "new", name))
        return "250 2.0.0 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    a = ap.parse_args()
    for sub in ("tmp", "new"):
        os.makedirs(os.path.join(a.dir, sub), exist_ok=True)
    ctl = Controller(Sink(a.dir, a.fail_first), hostname="127.0.0.1", port=a.port)
    ctl.start()
    print("smtp-sink listening on 127.0.0.1:%d, mail in %s/new" % (a.port, a.dir), flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    ctl.stop()


if __name__ == "__main__":
    main()
