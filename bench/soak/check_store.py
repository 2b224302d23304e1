"""check_store.py — the soak's checker: what became of the tasks, read from the
store (PostgreSQL through psql, or a SQLite file), the fake LLM's record of
the requests it answered, and the write counts of the workspace.

  lost               a confirmed task missing from the store, or not ended
                     (done, failed, cancelled) once the soak is over
  run twice          a model step asked for again after it was recorded (the
                     request came in later than the step's "llm:N" event), or a
                     task's answer appended to its conversation twice
  side effects twice a task's file written more than once
  failed             ended failed (each reason counted)
  interrupted        the write had started when its worker died and was not
                     repeated (the model was told): a defined outcome, not a loss

Standalone: check_store.py DATABASE_URL SUBMIT_FILE FAKE_RECORD [WRITES_JSON]
prints the counts as JSON.
"""
import json, re, sqlite3, subprocess, sys

TERMINAL = {3: "done", 4: "failed", 5: "cancelled"}


def query(url, sql):
    """Rows (tuples of strings) of sql against the store at url."""
    if url.startswith("sqlite://"):
        con = sqlite3.connect(url[len("sqlite://"):], timeout=30)
        try:
            return [tuple("" if v is None else str(v) for v in r) for r in con.execute(sql)]
        finally:
            con.close()
    out = subprocess.run(["psql", url, "-qAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def confirmed(submit_file):
    """{task id: marker} of the submissions that were confirmed."""
    ids = {}
    for line in open(submit_file):
        f = line.rstrip("\n").split("\t")
        if f[0] == "confirmed":
            ids[f[1]] = f[2]
    return ids


def requests_by_marker(record):
    """{marker: [(step, t_wall_ms)]}: step 1 asks for the write, step 2 follows
    the write's result."""
    out = {}
    for line in open(record):
        r = json.loads(line)
        body = json.dumps(r.get("body"))
        m = re.search(r"soak task ([A-Za-z0-9_.-]+)", body)
        if not m:
            continue
        step = 2 if '\\"role\\": \\"tool\\"' in body or '"role": "tool"' in body else 1
        out.setdefault(m.group(1), []).append((step, r.get("t_wall_ms", 0)))
    return out


def check(url, ids, record=None, writes=None):
    """The counts (a dict) for the confirmed tasks ids ({id: marker})."""
    tasks = {r[0]: r for r in query(url, "SELECT id, status, COALESCE(error, '') FROM tasks")}
    res = {"confirmed": len(ids), "lost": 0, "done": 0, "failed": 0, "cancelled": 0,
           "run_twice": 0, "side_effects_twice": 0, "interrupted": 0, "failures": {},
           "lost_ids": []}
    for tid in ids:
        t = tasks.get(tid)
        status = int(t[1]) if t else -1
        if status not in TERMINAL:
            res["lost"] += 1
            res["lost_ids"].append(tid)
            continue
        res[TERMINAL[status]] += 1
        if status == 4:
            why = re.sub(r"[0-9a-f-]{36}|\d+", "N", t[2])[:120]
            res["failures"][why] = res["failures"].get(why, 0) + 1
    twice = set()
    for tid, n in query(url, "SELECT task_id, count(*) FROM messages WHERE role = 'assistant' "
                             "AND task_id IS NOT NULL GROUP BY task_id HAVING count(*) > 1"):
        if tid in ids:
            twice.add(tid)
    if record:
        steps = {}
        for tid, key, ms in query(url, "SELECT task_id, step_key, created_ms FROM task_events "
                                       "WHERE step_key LIKE 'llm:%'"):
            steps[(tid, key)] = int(ms)
        asked = requests_by_marker(record)
        for tid, marker in ids.items():
            for step, wall in asked.get(marker, []):
                recorded = steps.get((tid, "llm:%d" % step))
                if recorded is not None and wall > recorded:
                    twice.add(tid)
    res["run_twice"] = len(twice)
    res["run_twice_ids"] = sorted(twice)[:20]
    for tid, data in query(url, "SELECT task_id, data FROM task_events WHERE kind = 'tool_result'"):
        if tid in ids and "interrupted by a restart" in data:
            res["interrupted"] += 1
    if writes is not None:
        by_marker = {m: writes.get(m + ".txt", 0) for m in ids.values()}
        res["side_effects_twice"] = sum(1 for n in by_marker.values() if n > 1)
        res["side_effects_none"] = sum(1 for n in by_marker.values() if n == 0)
    res["lost_ids"] = res["lost_ids"][:20]
    return res


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    writes = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else None
    print(json.dumps(check(sys.argv[1], confirmed(sys.argv[2]), sys.argv[3], writes), indent=2))


if __name__ == "__main__":
    main()
