#!/usr/bin/python3
"""net_errand.py — what $ERRAND runs in the networked e2e runs (lib.sh sets it up).

Commands that run tasks (ask, and the REPL: no command, repl, --plain) get their
own worker processes, started with the SAME environment and global options as
the command (the worker's configuration is what counts for a task), one per
queue: `errand worker supervisor`, `aggregator`, and one per agent.  The command
runs once every worker is ready; afterwards the workers get SIGTERM and are
waited for, so nothing outlives the command and the next command's settings
apply to the next task.  Every other command is exec'ed as it is.

A shell script cannot do this: a background job of a non-interactive shell
starts with SIGINT ignored and cannot trap it, and t_cancel.sh interrupts
`$ERRAND ask … &` with kill -INT.  Here SIGINT, SIGTERM and SIGHUP are passed on.

Environment: ERRAND_BIN the real binary; ERRAND_NET_LOGS a directory for the
workers' logs; ERRAND_NET_WORKERS (optional) the worker names.
Exit status: the command's; 125 when a worker that was ready exited
uncleanly or did not stop (its log is shown on stderr).
"""
import os, signal, subprocess, sys, threading, time

BIN = os.environ["ERRAND_BIN"]
LOGS = os.environ.get("ERRAND_NET_LOGS") or "."
WORKERS = (os.environ.get("ERRAND_NET_WORKERS") or
           "supervisor aggregator code research data email browser").split()
READY_S = 60      # start-up under ASan on a loaded machine can be slow
STOP_S = 60

# errand's global options (src/cli/main.c): those that take a value.
GLOBAL_VALUE = {"--config", "--database", "--llm", "--model", "-m", "--workspace", "-w",
                "--set", "-o", "--log-level"}
GLOBAL_FLAG = {"--yes", "-y", "--plain", "--help", "-h", "--version", "-V"}
# Command options that take a value, so their values are not taken for commands.
COMMAND_VALUE = {"--agent", "-a", "--conversation", "-C", "--status", "-s", "--limit", "-n",
                 "--concurrency", "-j"}
NOT_FOR_WORKERS = {"--plain", "--help", "-h", "--version", "-V"}


def parse(argv):
    """(command or None, global options to pass to workers, help/version asked)"""
    command, globals_, info = None, [], False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            break
        name = a.split("=", 1)[0] if a.startswith("--") else a
        if name in GLOBAL_VALUE:
            take = [a] if "=" in a else argv[i:i + 2]
            globals_ += take
            i += len(take)
            continue
        if name in GLOBAL_FLAG:
            info = info or name in ("--help", "-h", "--version", "-V")
            if name not in NOT_FOR_WORKERS:
                globals_.append(a)
        elif name in COMMAND_VALUE and "=" not in a:
            i += 1
        elif not a.startswith("-") and command is None:
            command = a
        i += 1
    return command, globals_, info


class Worker:
    def __init__(self, name, opts):
        self.name = name
        self.log = os.path.join(LOGS, "worker-%s.log" % name)
        self.ready = threading.Event()
        self.was_ready = False
        self.proc = subprocess.Popen([BIN] + opts + ["worker", name], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.reader = threading.Thread(target=self.copy, daemon=True)
        self.reader.start()

    def copy(self):
        with open(self.log, "ab") as out:
            out.write(b"--- pid %d\n" % self.proc.pid)
            for line in self.proc.stderr:
                out.write(line)
                out.flush()
                if b"errand: worker %s ready" % self.name.encode() in line:
                    self.was_ready = True
                    self.ready.set()
        self.ready.set()   # EOF: it exited (not ready)

    def tail(self):
        try:
            with open(self.log, "rb") as f:
                return b"".join(f.readlines()[-15:]).decode(errors="replace")
        except OSError:
            return ""


def stop(workers):
    """SIGTERM to all, then wait; a list of problems."""
    problems = []
    for w in workers:
        if w.proc.poll() is None:
            w.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_S
    for w in workers:
        try:
            rc = w.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
            problems.append("worker %s did not stop within %d s of SIGTERM" % (w.name, STOP_S))
            continue
        w.reader.join(5)
        if w.was_ready and rc != 0:
            problems.append("worker %s exited with status %d" % (w.name, rc))
    return problems


def main():
    argv = sys.argv[1:]
    command, opts, info = parse(argv)
    if info or command not in (None, "ask", "repl"):
        os.execv(BIN, [BIN] + argv)
    os.makedirs(LOGS, exist_ok=True)
    workers = [Worker(n, opts) for n in WORKERS]
    deadline = time.monotonic() + READY_S
    for w in workers:
        w.ready.wait(max(0.1, deadline - time.monotonic()))
    child = subprocess.Popen([BIN] + argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: child.send_signal(s))
    rc = child.wait()
    problems = stop(workers)
    for p in problems:
        w = next(x for x in workers if p.startswith("worker %s " % x.name))
        sys.stderr.write("net_errand: %s; its log (%s) ends:\n%s\n" % (p, w.log, w.tail()))
    if problems:
        sys.exit(125)
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
