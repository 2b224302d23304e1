"""test_check_store.py — the soak checker must see what it is there to see: a
store with one task of each fault (lost, run twice twice over, its file written
twice, failed, interrupted) and clean ones, counted exactly.  Run by ctest
(soak.checker); needs nothing but Python."""
import json, os, sqlite3, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_store  # noqa: E402


def main():
    d = tempfile.mkdtemp(prefix="errand-check-store-")
    db = os.path.join(d, "s.db")
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE tasks (id TEXT, status INTEGER, error TEXT);
        CREATE TABLE task_events (task_id TEXT, step_key TEXT, kind TEXT, data TEXT,
                                  created_ms INTEGER);
        CREATE TABLE messages (task_id TEXT, role TEXT);""")
    tasks = {"ok1": 3, "ok2": 3, "open": 2, "twice": 3, "answered2": 3, "wrote2": 3,
             "fail": 4, "intr": 3}
    for t, st in tasks.items():
        con.execute("INSERT INTO tasks VALUES (?, ?, ?)", (t, st, "boom 42" if st == 4 else None))
        con.execute("INSERT INTO task_events VALUES (?, 'llm:1', 'llm', '{}', 1000)", (t,))
        con.execute("INSERT INTO task_events VALUES (?, 'llm:2', 'llm', '{}', 2000)", (t,))
        con.execute("INSERT INTO messages VALUES (?, 'assistant')", (t,))
    con.execute("INSERT INTO messages VALUES ('answered2', 'assistant')")
    con.execute("INSERT INTO task_events VALUES ('intr', 'tool:1:w', 'tool_result', "
                "'{\"content\":\"error: this write_file call was interrupted by a restart\"}', 1500)")
    con.commit()
    con.close()
    ids = {t: "m" + t for t in tasks}
    ids["missing"] = "mmissing"
    record = os.path.join(d, "rec.jsonl")
    with open(record, "w") as f:
        for t in tasks:
            f.write(json.dumps({"body": {"messages": [{"role": "user", "content": "soak task m%s: x" % t}]},
                                "t_wall_ms": 900}) + "\n")
        # step 1 of "twice" asked again after it was recorded
        f.write(json.dumps({"body": {"messages": [{"role": "user", "content": "soak task mtwice: x"}]},
                            "t_wall_ms": 1200}) + "\n")
        # step 2 of "ok1" asked before it was recorded: fine
        f.write(json.dumps({"body": {"messages": [{"role": "user", "content": "soak task mok1: x"},
                                                  {"role": "tool", "content": "done"}]},
                            "t_wall_ms": 1900}) + "\n")
    writes = {"m%s.txt" % t: 1 for t in tasks}
    writes["mwrote2.txt"] = 2
    r = check_store.check("sqlite://" + db, ids, record, writes)
    want = {"confirmed": 9, "lost": 2, "done": 6, "failed": 1, "run_twice": 2,
            "side_effects_twice": 1, "interrupted": 1}
    bad = {k: (r[k], v) for k, v in want.items() if r[k] != v}
    if bad or sorted(r["lost_ids"]) != ["missing", "open"] or r["failures"] != {"boom N": 1}:
        print("check_store miscounted: %s\n%s" % (bad, json.dumps(r, indent=1)))
        sys.exit(1)
    print("check_store counts every fault: %s" % json.dumps(want))


if __name__ == "__main__":
    main()
