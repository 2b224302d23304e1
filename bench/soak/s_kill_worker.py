"""s_kill_worker.py — soak: kill -9 a random code worker mid-task, CYCLES times
(default 100), under a steady stream of tasks, networked (PostgreSQL +
RabbitMQ + Redis, separate worker processes).

Each task's model writes out/<marker>.txt (write_file: a temporary file renamed
into place, each rename counted by an inotify watcher, so a second write shows)
and then answers.  A replacement worker starts after each kill, so WORKERS code
workers run at any time.  Afterwards every confirmed task must have ended;
check_store.py counts lost / run twice / side effects twice (target 0 / 0 / 0).

  s_kill_worker.py [--cycles 100] [--rate 6] [--workers 3] [--gap 1.0-3.0]
"""
import argparse, json, os, random, re, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_store  # noqa: E402
from soaklib import Soak, WriteWatcher, kill9, log  # noqa: E402


def turns():
    return [
        {"match": '"role":"tool"', "repeat": True, "delay_ms": 150, "text": "wrote it"},
        {"match": "soak task ", "repeat": True, "capture": "soak task ", "delay_ms": 150,
         "tool_calls": [{"id": "w-{{capture}}", "name": "write_file",
                         "arguments": {"path": "out/{{capture}}.txt",
                                       "content": "{{capture}}\n"}}]},
    ]


def wait_ended(s, ids, timeout):
    """Waits until every task in ids has ended (or timeout); how many have not."""
    end = time.time() + timeout
    while True:
        rows = check_store.query(s.env["DATABASE_URL"], "SELECT id FROM tasks WHERE status < 3")
        open_ids = {r[0] for r in rows} & set(ids)
        if not open_ids or time.time() > end:
            return len(open_ids)
        time.sleep(1)


def caught_midway(procs):
    """From the code workers' logs: tasks that more than one worker (or one
    twice) took — a kill caught them midway — and steps a later one replayed."""
    runs, replayed = {}, 0
    for p in procs:
        for line in open(p.log, errors="replace"):
            m = re.search(r'"msg":"running task ([0-9a-f-]+) on', line)
            if m:
                runs[m.group(1)] = runs.get(m.group(1), 0) + 1
            replayed += '"msg":"replayed ' in line
    return sum(1 for n in runs.values() if n > 1), replayed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=int(os.environ.get("SOAK_CYCLES", 100)))
    ap.add_argument("--rate", type=float, default=6.0, help="tasks submitted per second")
    ap.add_argument("--workers", type=int, default=3, help="code workers running at once")
    ap.add_argument("--gap", default="1.0-3.0", help="seconds between kills (uniform)")
    a = ap.parse_args()
    lo, hi = (float(x) for x in a.gap.split("-"))
    with Soak("kill_worker") as s:
        s.start_servers()
        s.start_fake(turns())
        ws = os.path.join(s.tmp, "ws")
        os.makedirs(os.path.join(ws, "out"))
        watch = WriteWatcher(os.path.join(ws, "out"))
        opts = ["-w", ws, "-o", "policy.write=allow", "-j", "2", "--log-level", "info"]
        s.worker("supervisor", "-j", "8")
        s.worker("aggregator", "-j", "8")
        code = [s.worker("code", *opts) for _ in range(a.workers)]
        every = list(code)
        submit_file, stop_file = os.path.join(s.tmp, "submitted.tsv"), os.path.join(s.tmp, "stop")
        sub = s.submit(count=10 ** 6, rate=a.rate, out=submit_file, prefix="k", threads=4,
                       stop_file=stop_file)
        t0, kills = time.time(), 0
        for cycle in range(a.cycles):
            time.sleep(random.uniform(lo, hi))
            victim = random.randrange(len(code))
            kill9(code[victim])
            kills += 1
            code[victim] = s.worker("code", *opts)
            every.append(code[victim])
            if (cycle + 1) % 10 == 0:
                log("kill_worker: %d kills" % (cycle + 1))
        open(stop_file, "w").close()
        sub_out, _ = sub.communicate()
        soak_s = time.time() - t0
        ids = check_store.confirmed(submit_file)
        log("kill_worker: %d tasks confirmed; waiting for them to end" % len(ids))
        not_ended = wait_ended(s, ids, 300)
        watch.close()
        res = check_store.check(s.env["DATABASE_URL"], ids, s.fake_record, watch.counts)
        res["taken_again_after_a_kill"], res["steps_replayed"] = caught_midway(every)
        res.update({"kills": kills, "soak_seconds": round(soak_s, 1), "rate": a.rate,
                    "code_workers": a.workers, "not_ended_after_wait": not_ended,
                    "inotify_overflow": watch.overflow, "submit": json.loads(sub_out or "{}")})
        s.save(res)
        ok = res["lost"] == 0 and res["run_twice"] == 0 and res["side_effects_twice"] == 0
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
