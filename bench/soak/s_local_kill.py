"""s_local_kill.py — soak: the errand process of a local run (SQLite, workers
in the process) killed with SIGKILL at a random point, CYCLES times (default
100), on one database.

Each cycle starts `errand ask` (two tasks at once: one asked, one from a second
process) whose model writes a file, waits, and answers; one of them is killed
after a random 0–1.5 s — at start-up, in a migration of the first cycle, in a
model call, a tool, a write of the store.  Afterwards `errand task list` ends
the orphans (the process that owned them is gone), then: PRAGMA
integrity_check must say ok, and every task must have ended with a reason (an
answer when done, an error when failed).

  s_local_kill.py [--cycles 100] [--max-delay 1.5]
"""
import argparse, os, random, re, sqlite3, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soaklib import Soak, kill9, log  # noqa: E402

TERMINAL = (3, 4, 5)


def turns():
    return [
        {"match": '"role":"tool"', "repeat": True, "delay_ms": 300,
         "text": "the file is written and all is well"},
        {"match": "soak task ", "repeat": True, "capture": "soak task ", "delay_ms": 100,
         "tool_calls": [{"id": "w-{{capture}}", "name": "write_file",
                         "arguments": {"path": "out/{{capture}}.txt",
                                       "content": "{{capture}}\n"}}]},
    ]


def check_db(db):
    """integrity_check's verdict, and the tasks that did not end with a reason."""
    con = sqlite3.connect(db, timeout=60)
    try:
        integrity = [r[0] for r in con.execute("PRAGMA integrity_check")]
        rows = con.execute("SELECT id, status, COALESCE(result, ''), COALESCE(error, '') "
                           "FROM tasks").fetchall()
    finally:
        con.close()
    bad = [r for r in rows if r[1] not in TERMINAL
           or (r[1] == 3 and not r[2].strip()) or (r[1] != 3 and not r[3].strip())]
    by_status = {}
    for r in rows:
        by_status[r[1]] = by_status.get(r[1], 0) + 1
    return integrity, rows, bad, by_status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=int(os.environ.get("SOAK_CYCLES", 100)))
    ap.add_argument("--max-delay", type=float, default=1.5)
    a = ap.parse_args()
    with Soak("local_kill") as s:
        db = s.local_store()
        s.start_fake(turns())
        ws = os.path.join(s.tmp, "ws")
        os.makedirs(os.path.join(ws, "out"))
        argv = [s.errand, "-w", ws, "-o", "policy.write=allow", "ask", "--agent", "code"]
        delays, mid_check_failures = [], 0
        for cycle in range(a.cycles):
            procs = [s.spawn(argv + ["soak task L%d%s: write your file" % (cycle, k)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ws)
                     for k in "ab"]
            d = random.uniform(0, a.max_delay)
            delays.append(d)
            time.sleep(d)
            kill9(random.choice(procs))
            for p in procs:
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    kill9(p)
            # The database must hold up after every kill, not only at the end.
            integrity, _, _, _ = check_db(db)
            if integrity != ["ok"]:
                mid_check_failures += 1
                log("local_kill: cycle %d: integrity_check: %s" % (cycle, integrity[:3]))
            if (cycle + 1) % 10 == 0:
                log("local_kill: %d cycles" % (cycle + 1))
        # Whoever looks next ends the orphans (tasks whose process is gone).
        subprocess.run([s.errand, "task", "list", "--json", "--limit", "1000"], env=s.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        integrity, rows, bad, by_status = check_db(db)
        reasons = {}
        con = sqlite3.connect(db)
        for (err,) in con.execute("SELECT error FROM tasks WHERE status = 4"):
            key = re.sub(r"\d+", "N", err or "")[:100]
            reasons[key] = reasons.get(key, 0) + 1
        con.close()
        res = {"cycles": a.cycles, "tasks": len(rows),
               "done": by_status.get(3, 0), "failed": by_status.get(4, 0),
               "cancelled": by_status.get(5, 0),
               "not_ended_or_no_reason": len(bad), "bad_ids": [r[0] for r in bad][:20],
               "integrity_check": integrity[:5], "integrity_failures_between_cycles":
               mid_check_failures, "kill_delay_s": {"min": round(min(delays), 3),
                                                    "max": round(max(delays), 3)},
               "failure_reasons": reasons}
        s.save(res)
        sys.exit(0 if integrity == ["ok"] and not bad and not mid_check_failures else 1)


if __name__ == "__main__":
    main()
