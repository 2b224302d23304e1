#!/usr/bin/python3
"""net_errand.py — what $ERRAND runs in the networked e2e runs (lib.sh sets it up).

Commands that run tasks (ask, and the REPL or session: no command, repl) need
worker processes started with the SAME environment, working directory and
global options as the command: in networked mode the worker's configuration is
what counts for a task.  The workers are `errand worker supervisor`, `errand
worker aggregator` and `errand worker AGENT…` (every agent of `errand agents`), so
that every hand-over crosses RabbitMQ and a process boundary (the fault tests
run single agents in processes of their own).  Every other command is exec'ed
as it is.

The workers live in a pool kept by a manager process that lib.sh starts for the
test (`net_errand.py --pool DIR`): a command asks it for workers of its
configuration; the manager starts them, or keeps those already running when the
configuration is the same (long-lived workers, as in production), or stops them
and starts new ones when it differs (options, environment, working directory, or
the contents of the configuration file: a test may rewrite it in place).  Stopping checks each worker exited 0
after SIGTERM; `net_errand.py --pool-stop DIR` (lib.sh's finish) stops the last
ones and prints what went wrong, if anything.  Without a manager (ERRAND_NET_POOL
unset), a command starts its own workers and stops them after it.

A shell script could not be the wrapper: a background job of a non-interactive
shell starts with SIGINT ignored and cannot trap it, and t_cancel.sh interrupts
`$ERRAND ask … &` with kill -INT.  Here SIGINT, SIGTERM and SIGHUP are passed on.

Environment: ERRAND_BIN the real binary; ERRAND_NET_LOGS a directory for the
workers' logs; ERRAND_NET_POOL the manager's directory; ERRAND_NET_WORKERS
(optional) the worker processes, separated by commas, each one or more names.
Exit status: the command's; 125 when a worker exited uncleanly or did not stop.
"""
import hashlib, json, os, signal, socket, subprocess, sys, threading, time

BIN = os.environ.get("ERRAND_BIN", "")
LOGS = os.environ.get("ERRAND_NET_LOGS") or "."

READY_S = 60      # start-up under ASan on a loaded machine can be slow
STOP_S = 60

# errand's global options (src/cli/main.c): those that take a value.
GLOBAL_VALUE = {"--config", "--database", "--llm", "--model", "-m", "--workspace", "-w",
                "--set", "-o", "--log-level", "--record", "--replay"}
GLOBAL_FLAG = {"--yes", "-y", "--plain", "--help", "-h", "--version", "-V", "--continue", "-c"}
# Which conversation to continue: the command's business, not the workers'.
GLOBAL_SKIP_VALUE = {"--resume", "-r"}
# Command options that take a value, so their values are not taken for commands.
COMMAND_VALUE = {"--agent", "-a", "--conversation", "-C", "--status", "-s", "--limit", "-n",
                 "--concurrency", "-j", "--grace", "--file", "-f"}
NOT_FOR_WORKERS = {"--plain", "--help", "-h", "--version", "-V", "--continue", "-c"}
# Set by the shell per command, not configuration.
VOLATILE_ENV = {"_", "PWD", "OLDPWD", "SHLVL", "ERRAND_NET_POOL"}


def worker_names():
    """The worker processes: ERRAND_NET_WORKERS, or the supervisor, the aggregator
    and one process for every agent of `errand agents`."""
    if os.environ.get("ERRAND_NET_WORKERS"):
        return os.environ["ERRAND_NET_WORKERS"].split(",")
    out = subprocess.run([BIN, "agents", "--json"], check=True, capture_output=True).stdout
    return ["supervisor", "aggregator", " ".join(a["name"] for a in json.loads(out))]


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
        if name in GLOBAL_SKIP_VALUE:
            i += 1 if "=" in a else 2
            continue
        if name in GLOBAL_FLAG:
            info = info or name in ("--help", "-h", "--version", "-V")
            if name not in NOT_FOR_WORKERS:
                globals_.append(a)
        elif name in COMMAND_VALUE and "=" not in a:
            i += 1
        elif not a.startswith("-") and command is None:
            # errand "a question" is short for errand ask "a question".
            command = "ask" if " " in a else a
        i += 1
    return command, globals_, info


class Worker:
    """One `errand worker NAMES…` process; its stderr goes to a log file."""

    def __init__(self, names, opts, env, cwd):
        self.name = " ".join(names.split())
        self.log = os.path.join(LOGS, "worker-%s.log" % names.split()[0])
        self.ready = threading.Event()
        self.was_ready = False
        # setpriv: a worker must not outlive us (ctest kills only the test's shell
        # on a timeout; a stray worker would take the next test's messages).
        self.proc = subprocess.Popen(["setpriv", "--pdeathsig", "TERM", BIN] + opts + ["worker"]
                                     + names.split(), env=env, cwd=cwd,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
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


def start(opts, env, cwd):
    workers = [Worker(n, opts, env, cwd) for n in worker_names()]
    deadline = time.monotonic() + READY_S
    for w in workers:
        w.ready.wait(max(0.1, deadline - time.monotonic()))
    return workers


def stop(workers):
    """SIGTERM to all, then wait; what went wrong, with the end of the log."""
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
            rc = None
        w.reader.join(5)
        if rc is None:
            why = "did not stop within %d s of SIGTERM" % STOP_S
        elif w.was_ready and rc != 0:
            why = "exited with status %d" % rc
        else:
            continue
        problems.append("worker %s %s; its log (%s) ends:\n%s" % (w.name, why, w.log, w.tail()))
    return problems


# ---- the pool manager ----

def die_with_parent():
    """SIGTERM when the test's shell dies, even by SIGKILL (a ctest timeout)."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() == 1:
        sys.exit(1)


def serve(pool):
    """Keeps the workers of the last configuration asked for, until --pool-stop."""
    path = os.path.join(pool, "pool.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    current = {"key": None, "workers": []}
    problems = []

    def quit_(sig, frame):
        stop(current["workers"])
        os._exit(0)
    signal.signal(signal.SIGTERM, quit_)
    die_with_parent()
    while True:
        conn, _ = srv.accept()
        with conn, conn.makefile("rwb") as f:
            req = json.loads(f.readline())
            if req["op"] == "stop":
                problems += stop(current["workers"])
                f.write(json.dumps({"problems": problems}).encode() + b"\n")
                f.flush()
                os.unlink(path)
                return
            key = hashlib.sha256(json.dumps([req["opts"], req["env"], req["cwd"],
                                             req.get("config")],
                                            sort_keys=True).encode()).hexdigest()
            if key != current["key"] or any(w.proc.poll() is not None
                                            for w in current["workers"]):
                problems += stop(current["workers"])
                current = {"key": key, "workers": start(req["opts"], req["env"], req["cwd"])}
            f.write(b"{}\n")
            f.flush()


def config_text(opts, env):
    """The text of the configuration file the workers will read: a test that
    rewrites the file under the same path wants workers of the new contents."""
    path = None
    for i, a in enumerate(opts):
        if a == "--config" and i + 1 < len(opts):
            path = opts[i + 1]
        elif a.startswith("--config="):
            path = a.split("=", 1)[1]
    if path is None:
        base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME", ""), ".config")
        path = os.path.join(base, "errand", "config")
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def ask_pool(pool, req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(pool, "pool.sock"))
    with s, s.makefile("rwb") as f:
        f.write(json.dumps(req).encode() + b"\n")
        f.flush()
        return json.loads(f.readline())


def run(argv):
    """Runs errand argv as a child, passing signals on; its exit status.  The child
    dies with us, and is killed if a hang-up (tmux closing its pane) leaves it
    running for 10 s."""
    child = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", BIN] + argv)
    hung_up = []

    def pass_on(sig, frame):
        if sig == signal.SIGHUP and not hung_up:
            hung_up.append(time.monotonic())
        child.send_signal(sig)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, pass_on)
    while True:
        try:
            rc = child.wait(timeout=1)
            return rc if rc >= 0 else 128 - rc
        except subprocess.TimeoutExpired:
            if hung_up and time.monotonic() - hung_up[0] > 10:
                child.kill()


def main():
    if sys.argv[1:2] == ["--pool"]:
        serve(sys.argv[2])
        return
    if sys.argv[1:2] == ["--pool-stop"]:
        problems = ask_pool(sys.argv[2], {"op": "stop"})["problems"]
        for p in problems:
            sys.stderr.write("net_errand: %s\n" % p)
        sys.exit(125 if problems else 0)
    argv = sys.argv[1:]
    command, opts, info = parse(argv)
    serves = command == "mcp" and "serve" in argv   # errand mcp serve runs tasks too
    if info or (command not in (None, "ask", "repl") and not serves):
        os.execv(BIN, [BIN] + argv)
    os.makedirs(LOGS, exist_ok=True)
    pool = os.environ.get("ERRAND_NET_POOL")
    env = {k: v for k, v in os.environ.items() if k not in VOLATILE_ENV}
    if pool:
        ask_pool(pool, {"op": "ensure", "opts": opts, "env": env, "cwd": os.getcwd(),
                        "config": config_text(opts, env)})
        sys.exit(run(argv))
    workers = start(opts, env, os.getcwd())
    rc = run(argv)
    problems = stop(workers)
    for p in problems:
        sys.stderr.write("net_errand: %s\n" % p)
    sys.exit(125 if problems else rc)


if __name__ == "__main__":
    main()
