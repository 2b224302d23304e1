"""s_broker_restart.py — soak: RabbitMQ restarted RESTARTS times (default 20)
while TASKS tasks (default 10,000) are submitted with publisher confirms.

A submission counts once the store has its row and the broker confirmed its
message (errand_soak_submit); one refused while the broker is down is
submitted again, as a user would.  The broker's application is stopped and
started (rabbitmqctl stop_app / start_app: every connection drops, durable
queues and persistent messages stay) at random moments; the workers reconnect.
Afterwards every confirmed task must have ended: confirmed-but-lost = 0.

  s_broker_restart.py [--tasks 10000] [--restarts 20] [--rate 80]
"""
import argparse, json, os, random, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_store  # noqa: E402
from soaklib import Soak, log  # noqa: E402
from s_kill_worker import wait_ended  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=int(os.environ.get("SOAK_TASKS", 10000)))
    ap.add_argument("--restarts", type=int, default=int(os.environ.get("SOAK_RESTARTS", 20)))
    ap.add_argument("--rate", type=float, default=80.0, help="tasks submitted per second")
    a = ap.parse_args()
    with Soak("broker_restart") as s:
        s.start_servers()
        s.start_fake([{"repeat": True, "text": "done"}])
        s.worker("supervisor", "-j", "16")
        s.worker("aggregator", "-j", "16")
        for _ in range(2):
            s.worker("code", "-j", "16")
        submit_file = os.path.join(s.tmp, "submitted.tsv")
        t0 = time.time()
        sub = s.submit(count=a.tasks, rate=a.rate, out=submit_file, prefix="b", threads=8)
        # Restarts spread over the submission time, each at a random point of its slot.
        slot = a.tasks / a.rate / a.restarts
        down_s, done = [], 0
        for i in range(a.restarts):
            time.sleep(random.uniform(0.2, 0.8) * slot)
            t = time.time()
            s.server("rabbitmq", "stop_app")
            time.sleep(random.uniform(0.5, 2.0))
            s.server("rabbitmq", "start_app")
            down_s.append(time.time() - t)
            done += 1
            log("broker_restart: restart %d/%d (down %.1f s)" % (done, a.restarts, down_s[-1]))
            time.sleep(max(0.0, slot - (time.time() - t)) * 0.2)
        sub_out, _ = sub.communicate()
        submit_s = time.time() - t0
        ids = check_store.confirmed(submit_file)
        log("broker_restart: %d tasks confirmed in %.0f s; waiting for them to end"
            % (len(ids), submit_s))
        not_ended = wait_ended(s, ids, 600)
        res = check_store.check(s.env["DATABASE_URL"], ids)
        res.update({"restarts": done, "broker_down_s": [round(x, 1) for x in down_s],
                    "submit_seconds": round(submit_s, 1), "rate": a.rate,
                    "not_ended_after_wait": not_ended, "submit": json.loads(sub_out or "{}"),
                    "confirmed_but_lost": res["lost"]})
        s.save(res)
        sys.exit(0 if res["lost"] == 0 else 1)


if __name__ == "__main__":
    main()
