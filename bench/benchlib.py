"""benchlib.py — what the benchmarks (throughput.py) and the soaks (soak/)
share: a private environment, the throwaway servers of tests/servers/*.sh on
given ports, the fake LLM, and `errand worker` processes."""
import json, os, subprocess, time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "..", "tests", "servers")
# What errand reads that a run must not inherit from the caller's shell.
INHERITED = ("DATABASE_URL", "RABBITMQ_URL", "REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
             "ANTHROPIC_API_KEY", "ERRAND_LLM", "ERRAND_LOG")


def private_env(tmp, ports):
    """The caller's environment without errand's settings, with the servers'
    ports (what tests/servers/*.sh read) and a home and XDG dirs under tmp."""
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    env.update(ports)
    env.update({"HOME": tmp, "XDG_DATA_HOME": tmp + "/data", "XDG_STATE_HOME": tmp + "/state",
                "XDG_CONFIG_HOME": tmp + "/config"})
    return env


def server(state, env, svc, cmd):
    """tests/servers/SVC.sh CMD STATE/SVC; RuntimeError with its words on failure."""
    r = subprocess.run(["bash", os.path.join(SERVERS, svc + ".sh"), cmd,
                        os.path.join(state, svc)], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s %s: %s" % (svc, cmd, r.stderr.strip()))


def server_urls(ports):
    """The backend URLs of the servers on ports."""
    return {
        "DATABASE_URL": "postgresql://errand:errand@127.0.0.1:%s/errand"
                        % ports["ERRAND_TEST_PG_PORT"],
        "REDIS_URL": "redis://127.0.0.1:%s/0" % ports["ERRAND_TEST_REDIS_PORT"],
        "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:%s/" % ports["ERRAND_TEST_AMQP_PORT"]}


def start_fake(build, tmp, turns, record=None):
    """tests/fake_llm playing turns; (the Popen, the settings that point errand at it)."""
    script = os.path.join(tmp, "script.json")
    with open(script, "w") as f:
        json.dump({"turns": turns}, f)
    port_file = os.path.join(tmp, "fake.port")
    argv = [os.path.join(build, "tests", "fake_llm"), "--script", script, "--port", "0",
            "--port-file", port_file]
    if record:
        argv += ["--record", record]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1000):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            break
        time.sleep(0.01)
    port = open(port_file).read().strip()
    return p, {"ERRAND_LLM": "openai", "OPENAI_API_KEY": "bench-key",
               "OPENAI_BASE_URL": "http://127.0.0.1:%s/v1" % port, "ERRAND_MODEL": "fake"}


def start_worker(errand, env, name, opts, log_path, cwd=None):
    """`errand worker NAME OPTS…`, its stderr in log_path (a pipe nobody reads
    after "ready" would stall it at its first 64 KiB of warnings); waits until
    it is ready.  The Popen, or RuntimeError with its log."""
    with open(log_path, "w") as f:
        p = subprocess.Popen([errand, "worker", name] + list(opts), env=env, cwd=cwd,
                             stdout=subprocess.DEVNULL, stderr=f)
    for _ in range(3000):
        if "ready" in open(log_path).read() or p.poll() is not None:
            break
        time.sleep(0.02)
    if p.poll() is not None:
        raise RuntimeError("errand worker %s: %s" % (name, open(log_path).read().strip()))
    return p
