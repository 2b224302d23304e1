"""soaklib.py — what every soak scenario (bench/soak/s_*.py) shares: a private
home, throwaway PostgreSQL / RabbitMQ / Redis on the soak's own ports (started
with tests/servers/*.sh), the fake LLM, errand workers, the soak's stream of
tasks (errand_soak_submit), a watcher counting file writes (inotify), and the
result file.

Ports (so that a test suite may run meanwhile): SOAK_PG_PORT (55892),
SOAK_REDIS_PORT (56792), SOAK_AMQP_PORT (56092, and the next 18), SOAK_EPMD_PORT
(54792).  SOAK_BUILD is the build directory (default build/), SOAK_OUT where
results go (bench/out/soak).
"""
import ctypes, json, os, shutil, signal, struct, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import benchlib  # noqa: E402

PORTS = {"ERRAND_TEST_PG_PORT": os.environ.get("SOAK_PG_PORT", "55892"),
         "ERRAND_TEST_REDIS_PORT": os.environ.get("SOAK_REDIS_PORT", "56792"),
         "ERRAND_TEST_AMQP_PORT": os.environ.get("SOAK_AMQP_PORT", "56092"),
         "ERRAND_TEST_EPMD_PORT": os.environ.get("SOAK_EPMD_PORT", "54792")}


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Soak:
    """One scenario's world; use as a context manager (everything stops at exit)."""

    def __init__(self, name):
        self.name = name
        self.build = os.path.abspath(os.environ.get("SOAK_BUILD", os.path.join(ROOT, "build")))
        self.errand = os.path.join(self.build, "errand")
        self.out_dir = os.environ.get("SOAK_OUT", os.path.join(ROOT, "bench", "out", "soak"))
        self.tmp = tempfile.mkdtemp(prefix="errand-soak-%s-" % name)
        self.state = os.path.join(self.build, "soak-servers")
        self.env = benchlib.private_env(self.tmp, PORTS)
        self.servers, self.procs = [], []
        self.fake = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()
        ok = exc[0] is None or (exc[0] is SystemExit and not exc[1].code)
        if ok and not os.environ.get("SOAK_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            log("state kept in %s" % self.tmp)

    # ---- servers ----

    def server(self, svc, cmd):
        benchlib.server(self.state, self.env, svc, cmd)

    def start_servers(self):
        for svc in ("postgres", "redis", "rabbitmq"):
            log("starting %s" % svc)
            self.server(svc, "start")
            self.servers.append(svc)
        self.env.update(benchlib.server_urls(PORTS))
        subprocess.run([os.path.join(self.build, "tests", "bus_ctl"), self.env["RABBITMQ_URL"],
                        "purge"], env=self.env, check=True, stdout=subprocess.DEVNULL)

    def local_store(self):
        """The local mode's SQLite file (no servers)."""
        os.makedirs(self.tmp + "/data/errand", exist_ok=True)
        self.db = os.path.join(self.tmp, "data", "errand", "soak.db")
        self.env["DATABASE_URL"] = "sqlite://" + self.db
        return self.db

    # ---- the fake LLM ----

    def start_fake(self, turns):
        self.fake_record = os.path.join(self.tmp, "fake.jsonl")
        self.fake, settings = benchlib.start_fake(self.build, self.tmp, turns, self.fake_record)
        self.env.update(settings)
        self.env["ERRAND_HTTP_BACKOFF_MS"] = "50"

    # ---- workers and other processes ----

    def worker(self, name, *opts):
        """Starts `errand worker NAME OPTS`, waits until it is ready; the Popen."""
        log_path = os.path.join(self.tmp, "worker-%s-%d.log" % (name, len(self.procs)))
        p = benchlib.start_worker(self.errand, self.env, name, opts, log_path, cwd=self.tmp)
        p.log = log_path
        self.procs.append(p)
        return p

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, env=self.env, **kw)
        self.procs.append(p)
        return p

    def submit(self, count, rate, out, prefix="", agent="code", threads=4, stop_file=None):
        argv = [os.path.join(self.build, "errand_soak_submit"), "--count", str(count),
                "--rate", str(rate), "--out", out, "--prefix", prefix, "--agent", agent,
                "--threads", str(threads)]
        if stop_file:
            argv += ["--stop-file", stop_file]
        return self.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        if self.fake:
            self.fake.terminate()
            self.fake.wait()
            self.fake = None
        for svc in reversed(self.servers):
            try:
                self.server(svc, "stop")
            except RuntimeError as e:
                log("warning: %s" % e)
        self.servers = []

    # ---- results ----

    def save(self, result):
        os.makedirs(self.out_dir, exist_ok=True)
        result = dict(result, scenario=self.name, finished=time.strftime("%Y-%m-%d %H:%M:%S"))
        path = os.path.join(self.out_dir, self.name + ".json")
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
        print(json.dumps(result))
        return path


def kill9(p):
    """SIGKILL and reap."""
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()


# ---- counting file writes: inotify through ctypes ----

IN_CLOSE_WRITE, IN_MOVED_TO, IN_Q_OVERFLOW = 0x8, 0x80, 0x4000


class WriteWatcher:
    """Counts, per file name, the writes into a directory: a rename into it
    (write_file writes a temporary file and renames it) or a close after
    writing.  Names starting with '.' (the temporaries) are not counted."""

    def __init__(self, directory):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        wd = self.libc.inotify_add_watch(self.fd, directory.encode(), IN_CLOSE_WRITE | IN_MOVED_TO)
        if wd < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch " + directory)
        self.counts, self.overflow, self.done = {}, False, False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except OSError:
                return
            off = 0
            while off + 16 <= len(data):
                _, mask, _, n = struct.unpack_from("iIII", data, off)
                name = data[off + 16:off + 16 + n].rstrip(b"\0").decode(errors="replace")
                off += 16 + n
                if mask & IN_Q_OVERFLOW:
                    self.overflow = True
                elif name and not name.startswith("."):
                    self.counts[name] = self.counts.get(name, 0) + 1

    def close(self):
        time.sleep(0.5)   # let the last events be read
        os.close(self.fd)

