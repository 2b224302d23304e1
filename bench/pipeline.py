"""pipeline.py — the local pipeline benchmark.

N tasks, each: one routing call, K tool rounds (write_todos), one final answer,
all through `errand ask` against the fake LLM answering instantly.  The fake
records when each request arrived and when its answer was written
(CLOCK_MONOTONIC, the clock Python's time.monotonic_ns reads), which gives:

  cold start        process start → first LLM request arrives at the fake
  turnaround        answer n written → request n+1 arrives (errand's own time per step)
  CPU per step      user+sys CPU of the errand process / LLM steps
  first token       first streamed chunk written by the fake → first byte on errand's stdout
  peak RSS          max resident set of the errand processes
"""
import argparse, json, os, resource, statistics, subprocess, sys, tempfile, time

def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)

def start_fake(fake, script, tmp):
    port_file = os.path.join(tmp, "port")
    rec = os.path.join(tmp, "rec.jsonl")
    p = subprocess.Popen([fake, "--script", script, "--port", "0", "--port-file", port_file,
                          "--record", rec], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            break
        time.sleep(0.01)
    return p, int(open(port_file).read()), rec

def rounds(i, k):
    """Task i's tool rounds: k for even i, none for odd i.  Interleaved, a task
    with steps and one without run side by side, and their CPU difference (the
    marginal cost of k steps) does not drift with the machine's load."""
    return k if i % 2 == 0 else 0

def script_for(n, k, text):
    turns = []
    for i in range(2 * n):
        turns.append({"tool_calls": [{"id": "r%d" % i, "name": "route",
                      "arguments": {"steps": [{"agent": "code", "request": "bench %d" % i}]}}],
                      "usage": {"input": 50, "output": 10}})
        for j in range(rounds(i, k)):
            turns.append({"tool_calls": [{"id": "c%d_%d" % (i, j), "name": "write_todos",
                          "arguments": {"todos": [{"content": "step %d" % j, "status": "completed"}]}}],
                          "usage": {"input": 100, "output": 20}})
        turns.append({"text": text, "usage": {"input": 120, "output": 30}})
    return {"turns": turns}

def run_version(prog, env, reps):
    ts = []
    for _ in range(reps):
        t0 = time.monotonic_ns()
        pid = os.posix_spawn(prog, [prog, "--version"], env,
                             file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
        os.waitpid(pid, 0)
        ts.append((time.monotonic_ns() - t0) / 1e6)
    return ts

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--errand", required=True)
    ap.add_argument("--fake", required=True)
    ap.add_argument("-n", type=int, default=30, help="tasks")
    ap.add_argument("-k", type=int, default=10, help="tool rounds per task")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="errand-bench-")
    text = " ".join("word%d" % i for i in range(40))
    script = os.path.join(tmp, "script.json")
    json.dump(script_for(a.n, a.k, text), open(script, "w"))
    fake, port, rec = start_fake(a.fake, script, tmp)
    env = dict(os.environ)
    for v in ("DATABASE_URL", "RABBITMQ_URL", "REDIS_URL", "ANTHROPIC_API_KEY"):
        env.pop(v, None)
    env.update({"HOME": tmp, "XDG_DATA_HOME": tmp + "/data", "XDG_STATE_HOME": tmp + "/state",
                "XDG_CONFIG_HOME": tmp + "/config", "ERRAND_LLM": "openai",
                "OPENAI_BASE_URL": "http://127.0.0.1:%d/v1" % port, "OPENAI_API_KEY": "bench-key",
                "ERRAND_MODEL": "fake", "ERRAND_MAX_STEPS": str(a.k + 5)})
    # The database is created and migrated first; not counted.
    subprocess.run([a.errand, "migrate"], env=env, stdout=subprocess.DEVNULL, check=True)
    starts, first_byte, cpu, rss = [], [], [], []
    devnull = os.open(os.devnull, os.O_WRONLY)
    for i in range(2 * a.n):
        # posix_spawn + wait4: the child's own rusage (CPU, peak RSS), and no
        # copy of this Python process's memory in the child before exec.
        r, w = os.pipe()
        acts = [(os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_DUP2, devnull, 2),
                (os.POSIX_SPAWN_CLOSE, r), (os.POSIX_SPAWN_CLOSE, w)]
        t0 = time.monotonic_ns()
        pid = os.posix_spawn(a.errand, [a.errand, "ask", "bench task %d" % i], env,
                             file_actions=acts)
        os.close(w)
        first = os.read(r, 1)
        t_first = time.monotonic_ns()
        while os.read(r, 65536):
            pass
        os.close(r)
        _, status, ru = os.wait4(pid, 0)
        if not first or os.waitstatus_to_exitcode(status) != 0:
            sys.exit("errand failed (status %d) on task %d" % (status, i))
        starts.append(t0)
        first_byte.append(t_first)
        cpu.append(ru.ru_utime + ru.ru_stime)
    os.close(devnull)
    # Peak RSS through /usr/bin/time: a child spawned from Python reports Python's
    # own high-water mark (the kernel records the pre-exec mm's), so it is useless.
    if os.path.exists("/usr/bin/time"):
        for i in range(5):
            out = os.path.join(tmp, "rss")
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out, a.errand, "ask", "rss %d" % i],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                rss.append(int(open(out).read().split()[-1]))
            except (OSError, ValueError, IndexError):
                pass
    fake.terminate()
    fake.wait()
    reqs = [json.loads(l) for l in open(rec)]
    per = a.k + 2
    cold, turn, ttft = [], [], []
    at = 0
    for i in range(2 * a.n):
        steps = rounds(i, a.k) + 2
        rs = reqs[at:at + steps]
        at += steps
        if steps != per:
            continue
        cold.append((rs[0]["t_recv_ns"] - starts[i]) / 1e6)
        for x, y in zip(rs, rs[1:]):
            turn.append((y["t_recv_ns"] - x["t_done_ns"]) / 1e6)
        last = rs[-1]
        sent = last.get("t_first_byte_ns") or last["t_recv_ns"]
        ttft.append((first_byte[i] - sent) / 1e6)
    version = run_version(a.errand, env, 50)
    baseline = run_version("/bin/true", env, 50)
    with_steps, without = cpu[0::2], cpu[1::2]
    marginal = statistics.median(x - y for x, y in zip(with_steps, without)) / a.k
    res = {
        "tasks": a.n, "tool_rounds": a.k, "llm_steps_per_task": per,
        "bin_true_ms_p50": pct(baseline, 50),
        "version_ms_p50": pct(version, 50),
        "cold_start_to_first_request_ms_p50": pct(cold, 50),
        "cold_start_to_first_request_ms_p90": pct(cold, 90),
        "turnaround_ms_p50": pct(turn, 50), "turnaround_ms_p99": pct(turn, 99),
        "cpu_ms_per_step": marginal * 1000,
        "cpu_ms_per_step_amortised": statistics.median(with_steps) * 1000 / per,
        "cpu_ms_per_task": statistics.median(with_steps) * 1000,
        "first_token_added_ms_p50": pct(ttft, 50),
        "peak_rss_mb": max(rss) / 1024.0 if rss else float("nan"),
    }
    if a.json:
        print(json.dumps(res, indent=2))
        return
    print("errand pipeline benchmark: %d tasks x (1 route + %d tool rounds + 1 answer), fake LLM answering instantly" % (a.n, a.k))
    rows = [
        ("machine baseline: /bin/true", "%.2f ms p50" % res["bin_true_ms_p50"], "(start-up noise floor)"),
        ("errand --version", "%.2f ms p50" % res["version_ms_p50"], ""),
        ("cold start → first LLM request", "%.2f ms p50, %.2f ms p90" % (res["cold_start_to_first_request_ms_p50"], res["cold_start_to_first_request_ms_p90"]), "target ≤ 15 ms (deepagents ≈ 900 ms)"),
        ("turnaround between LLM steps", "%.3f ms p50, %.3f ms p99" % (res["turnaround_ms_p50"], res["turnaround_ms_p99"]), "target ≤ 0.5 ms p50 (deepagents 8 ms)"),
        ("CPU per step (marginal)", "%.3f ms" % res["cpu_ms_per_step"], "target ≤ 0.5 ms (deepagents 15 ms)"),
        ("CPU per step (whole process / steps)", "%.3f ms" % res["cpu_ms_per_step_amortised"], "start-up included"),
        ("first token added by the pipeline", "%.3f ms p50" % res["first_token_added_ms_p50"], "target ≤ 1 ms"),
        ("peak RSS", "%.1f MB" % res["peak_rss_mb"], "target ≤ 14 MB (deepagents 170 MB)"),
    ]
    for name, val, target in rows:
        print("  %-38s %-28s %s" % (name, val, target))

if __name__ == "__main__":
    main()
