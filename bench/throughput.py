"""throughput.py — tasks per second and end-to-end latency, local and networked.

Each task: `errand ask --agent code` in substance (er_task_submit, then the
supervisor, the code agent's one call to the fake LLM answering at once, the
aggregator), driven by bench/loadgen.c (errand_loadgen), which times each task
from submission to its "end" event.  Two loads: one task at a time (latency),
and CONCURRENCY tasks in flight (throughput; latency there includes queueing).

  local      SQLite + in-process bus and cache, workers inside the load generator
  networked  PostgreSQL + RabbitMQ (persistent messages, publisher confirms) +
             Redis, with `errand worker` processes: supervisor, aggregator and
             1 or 2 code workers

The servers are throwaway ones started here with tests/servers/*.sh on their
own ports (BENCH_PG_PORT, BENCH_REDIS_PORT, BENCH_AMQP_PORT, BENCH_EPMD_PORT), so
a test suite may run meanwhile.  CPU per task is the CPU time each process group
used during the throughput run, divided by the tasks: it shows where time goes.
"""
import argparse, json, os, resource, signal, subprocess, sys, tempfile

import benchlib

PORTS = {"ERRAND_TEST_PG_PORT": os.environ.get("BENCH_PG_PORT", "57432"),
         "ERRAND_TEST_REDIS_PORT": os.environ.get("BENCH_REDIS_PORT", "57379"),
         "ERRAND_TEST_AMQP_PORT": os.environ.get("BENCH_AMQP_PORT", "57672"),
         "ERRAND_TEST_EPMD_PORT": os.environ.get("BENCH_EPMD_PORT", "57369")}


def cpu_ticks():
    """{pid: (comm, ppid, utime+stime)} for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            s = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        out[int(d)] = (comm, int(f[1]), int(f[11]) + int(f[12]))
    return out


def cpu_by_group(before, after, groups):
    """CPU seconds per group; groups maps a name to a predicate(pid, comm, ppid)."""
    hz = os.sysconf("SC_CLK_TCK")
    res = {g: 0.0 for g in groups}
    for pid, (comm, ppid, t) in after.items():
        t0 = before.get(pid, (comm, ppid, 0))[2] if before.get(pid, ("",))[0] == comm else 0
        for g, pred in groups.items():
            if pred(pid, comm, ppid):
                res[g] += (t - t0) / hz
                break
    return res


class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.errand = os.path.join(self.build, "errand")
        self.loadgen = os.path.join(self.build, "errand_loadgen")
        self.bus_ctl = os.path.join(self.build, "tests", "bus_ctl")
        self.tmp = tempfile.mkdtemp(prefix="errand-bench-net-")
        self.state = os.path.join(self.build, "bench-servers")
        self.env = benchlib.private_env(self.tmp, PORTS)
        self.started = []

    def start_fake(self):
        self.fake, settings = benchlib.start_fake(
            self.build, self.tmp, [{"repeat": True, "text": "benchmark answer",
                                    "usage": {"input": 20, "output": 5}}])
        self.env.update(settings)

    def server(self, svc, cmd):
        benchlib.server(self.state, self.env, svc, cmd)

    def start_servers(self):
        for svc in ("postgres", "redis", "rabbitmq"):
            self.server(svc, "start")
            self.started.append(svc)
        self.env.update(benchlib.server_urls(PORTS))

    def stop(self):
        for svc in reversed(self.started):
            try:
                self.server(svc, "stop")
            except RuntimeError as e:
                print("warning: %s" % e, file=sys.stderr)
        self.started = []
        if getattr(self, "fake", None):
            self.fake.terminate()
            self.fake.wait()

    def run_load(self, env, n, conc, warmup, extra=()):
        """The load generator's report, and the CPU seconds it used."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.Popen([self.loadgen, "-n", str(n), "-c", str(conc), "-w", str(warmup)]
                             + list(extra), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError("errand_loadgen failed: %s" % err.strip())
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return json.loads(out), cpu

    def local(self):
        env = dict(self.env)
        env["XDG_DATA_HOME"] = self.tmp + "/local"
        extra = ("--local-workers", str(self.a.agent_concurrency))
        lat, _ = self.run_load(env, self.a.latency_tasks, 1, self.a.latency_tasks // 10, extra)
        before = cpu_ticks()
        thr, own = self.run_load(env, self.a.tasks, self.a.concurrency, self.a.tasks // 10, extra)
        cpu = {"errand (one process)": own}
        cpu.update(cpu_by_group(before, cpu_ticks(),
                                {"fake LLM": lambda p, c, pp: p == self.fake.pid}))
        return {"latency": lat, "throughput": thr, "cpu": cpu}

    def mine(self, pid):
        """Is this server process one of the bench's (its command line names our state
        dir or port)?  Other test servers may run on the machine."""
        text = ""
        for f in ("cmdline", "environ"):
            try:
                text += open("/proc/%d/%s" % (pid, f), "rb").read().decode(errors="replace")
            except OSError:
                pass
        return self.state in text or ":%s" % PORTS["ERRAND_TEST_REDIS_PORT"] in text

    def workers(self, agents):
        procs = []
        j = str(self.a.agent_concurrency)
        for i, (name, conc) in enumerate([("supervisor", j), ("aggregator", j)]
                                         + [("code", j)] * agents):
            log = os.path.join(self.tmp, "worker-%d-%s.log" % (i, name))
            procs.append(benchlib.start_worker(self.errand, self.env, name, ["-j", conc], log))
        return procs

    def networked(self, agents):
        subprocess.run([self.bus_ctl, self.env["RABBITMQ_URL"], "purge"], env=self.env, check=True)
        procs = self.workers(agents)
        try:
            lat, _ = self.run_load(self.env, self.a.latency_tasks, 1, self.a.latency_tasks // 10)
            before = cpu_ticks()
            thr, own = self.run_load(self.env, self.a.tasks, self.a.concurrency, self.a.tasks // 10)
            after = cpu_ticks()
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait()
        wpids = {p.pid for p in procs}
        ours = {p for p, (c, pp, _) in after.items()
                if c in ("postgres", "beam.smp", "redis-server") and self.mine(p)}
        cpu = {"load generator": own}
        cpu.update(cpu_by_group(before, after, {
            "errand workers": lambda p, c, pp: p in wpids,
            "PostgreSQL": lambda p, c, pp: c == "postgres" and (p in ours or pp in ours),
            "RabbitMQ": lambda p, c, pp: p in ours and c == "beam.smp",
            "Redis": lambda p, c, pp: p in ours and c == "redis-server",
            "fake LLM": lambda p, c, pp: p == self.fake.pid,
        }))
        return {"latency": lat, "throughput": thr, "cpu": cpu}


def row(name, r, tasks):
    lat, thr = r["latency"], r["throughput"]
    print("  %-26s %8.0f tasks/s   p50 %6.2f ms  p99 %6.2f ms  |  one at a time: p50 %6.2f ms  p99 %6.2f ms"
          % (name, thr["tasks_per_s"], thr["latency_ms"]["p50"], thr["latency_ms"]["p99"],
             lat["latency_ms"]["p50"], lat["latency_ms"]["p99"]))
    per = ", ".join("%s %.2f" % (k, v * 1000 / tasks) for k, v in r["cpu"].items() if v > 0)
    total = sum(r["cpu"].values()) * 1000 / tasks
    print("  %-26s CPU ms per task: %.2f = %s" % ("", total, per))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("-n", "--tasks", type=int, default=3000, help="tasks in the throughput run")
    ap.add_argument("-c", "--concurrency", type=int, default=32, help="tasks in flight")
    ap.add_argument("--latency-tasks", type=int, default=200)
    ap.add_argument("--agent-concurrency", type=int, default=16, help="-j of each worker")
    ap.add_argument("--local-only", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    b = Bench(a)
    res = {}
    try:
        b.start_fake()
        res["local"] = b.local()
        if not a.local_only:
            try:
                b.start_servers()
            except RuntimeError as e:
                print("networked part skipped: %s" % e, file=sys.stderr)
            else:
                res["networked, 1 code worker"] = b.networked(1)
                res["networked, 2 code workers"] = b.networked(2)
    finally:
        b.stop()
    if a.json:
        print(json.dumps(res, indent=2))
        return
    print("errand throughput: tasks through submit → supervisor → code agent (1 LLM call, fake "
          "answering at once) → aggregator → end event;\n%d tasks with %d in flight, and %d one at "
          "a time; workers -j %d" % (a.tasks, a.concurrency, a.latency_tasks, a.agent_concurrency))
    for name, r in res.items():
        row(name, r, a.tasks)
    base = res.get("local", {}).get("throughput", {}).get("tasks_per_s")
    for name, r in res.items():
        if name != "local" and base:
            print("  %s / local: %.2f" % (name, r["throughput"]["tasks_per_s"] / base))
    print("  target (networked): ≥ 1000 tasks/s, p99 ≤ 20 ms")


if __name__ == "__main__":
    main()
