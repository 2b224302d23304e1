#!/usr/bin/env python3
"""data.py — the data agent's benchmark: load a CSV, describe every column,
one group-by; errand (offline commands, the real binary) side by side with
pandas (read_csv, describe(include="all"), groupby().sum()) and sqlite3's
.import, in one run on the same file.

    bench/data.py --errand build/errand [--mb 200] [--dir DIR] [--runs N]

Wall time, CPU time (user + system) and peak RSS of each step: the median
of N runs (default 3; the machine is shared, so one run says little), with
the load average before and after.  The CSV (bench/data_gen.py) is made once
and kept in DIR (default build/bench-data).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

PANDAS = r"""
import json, resource, sys, time, pandas as pd
def step(fn):
    w, c = time.time(), time.process_time()
    r = fn()
    return r, time.time() - w, time.process_time() - c
df, lw, lc = step(lambda: pd.read_csv(sys.argv[1]))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
_, dw, dc = step(lambda: df.describe(include="all"))
_, gw, gc = step(lambda: df.groupby("region")["revenue"].sum())
print(json.dumps({"load": [lw, lc, rss], "describe": [dw, dc], "group": [gw, gc]}))
"""


def measured(cmd, env=None):
    w = time.time()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execvpe(cmd[0], cmd, env or os.environ)
    _, status, ru = os.wait4(pid, 0)
    if status != 0:
        sys.exit("%s exited with %d" % (" ".join(cmd), status))
    return time.time() - w, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def one_run(errand, csv):
    """Each step once, in a fresh workspace: errand, sqlite3 .import, pandas."""
    tmp = tempfile.mkdtemp(prefix="errand-bench-data-")
    try:
        ws = os.path.join(tmp, "ws")
        os.makedirs(ws)
        shutil.copy(csv, os.path.join(ws, "sales.csv"))
        env = dict(os.environ, ERRAND_LLM="offline", XDG_DATA_HOME=tmp + "/x", XDG_STATE_HOME=tmp + "/x",
                   XDG_CONFIG_HOME=tmp + "/x", HOME=tmp)
        for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DATABASE_URL", "RABBITMQ_URL", "REDIS_URL"):
            env.pop(k, None)
        e = [errand, "-w", ws, "--yes", "ask"]
        r = {"el": measured(e + ["load sales.csv"], env),
             "ed": measured(e + ["describe sales"], env),
             "eg": measured(e + ["group sales region sum(revenue)"], env),
             "si": measured(["sqlite3", os.path.join(tmp, "imp.db"), "-cmd", ".mode csv",
                             ".import %s t" % os.path.join(ws, "sales.csv")])}
        out = subprocess.run(["/usr/bin/python3", "-c", PANDAS, os.path.join(ws, "sales.csv")],
                             check=True, capture_output=True, text=True).stdout
        for k, v in json.loads(out).items():
            r["pd_" + k] = v
        return r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--errand", required=True)
    ap.add_argument("--mb", type=float, default=float(os.environ.get("DATA_MB", 200)))
    ap.add_argument("--dir", default=None)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("DATA_RUNS", 3)))
    a = ap.parse_args()
    data_dir = a.dir or os.path.join(os.path.dirname(os.path.abspath(a.errand)), "bench-data")
    os.makedirs(data_dir, exist_ok=True)
    csv = os.path.join(data_dir, "sales-%gmb.csv" % a.mb)
    if not os.path.exists(csv):
        print("making %s (%g MB) ..." % (csv, a.mb), flush=True)
        subprocess.check_call([sys.executable, os.path.join(HERE, "data_gen.py"), csv, str(a.mb)])
    size = os.path.getsize(csv) / 1e6
    load_before = os.getloadavg()[0]
    runs = [one_run(a.errand, csv) for _ in range(a.runs)]
    load_after = os.getloadavg()[0]

    def med(key):
        return [statistics.median(r[key][i] for r in runs) for i in range(len(runs[0][key]))]
    el, ed, eg, si = med("el"), med("ed"), med("eg"), med("si")
    pd = {k: med("pd_" + k) for k in ("load", "describe", "group")}
    print("data: %.0f MB CSV (%s), median of %d run(s), load average %.1f before, %.1f after"
          % (size, os.path.basename(csv), a.runs, load_before, load_after))
    print("%-28s %9s %9s %9s" % ("", "wall s", "cpu s", "peak MB"))
    print("%-28s %9.2f %9.2f %9.0f" % ("errand load", *el))
    print("%-28s %9.2f %9.2f %9.0f" % ("pandas read_csv", pd["load"][0], pd["load"][1], pd["load"][2]))
    print("%-28s %9.2f %9.2f %9.0f" % ("sqlite3 .import", *si))
    print("%-28s %9.2f %9.2f %9.0f" % ("errand describe (all cols)", *ed))
    print("%-28s %9.2f %9.2f %9s" % ("pandas describe(all)", pd["describe"][0], pd["describe"][1], ""))
    print("%-28s %9.2f %9.2f %9.0f" % ("errand group-by", *eg))
    print("%-28s %9.2f %9.2f %9s" % ("pandas groupby.sum", pd["group"][0], pd["group"][1], ""))
    print("errand against pandas, cpu (wall): load %.2fx (%.2fx) pandas' speed, peak RSS %.2f of "
          "pandas'; describe %.2fx (%.2fx); group-by %.2fx (%.2fx)"
          % (pd["load"][1] / el[1], pd["load"][0] / el[0], el[2] / pd["load"][2],
             pd["describe"][1] / ed[1], pd["describe"][0] / ed[0], pd["group"][1] / eg[1],
             pd["group"][0] / eg[0]))


if __name__ == "__main__":
    main()
