#!/usr/bin/python3
"""slow_clients.py — a slowloris flood on 127.0.0.1, for t_api_slow_clients.sh.

  slow_clients.py flood PORT --ips N --per-ip K --hold S [--trickle S]
      N*K connections, from the loopback addresses 127.0.0.10, .11, …, each
      sending the start of a request and then one header byte every --trickle
      seconds, for --hold seconds; meanwhile a health check (GET /healthz from
      127.0.0.1 on a new connection) every 0.2 s.  Prints one JSON object:
      opened, health_ok, health_total, health_worst_s (slowest answer),
      cut_after_s (for each flood connection the server closed: seconds after
      it opened), alive (still open at the end).
  slow_clients.py per-ip PORT --count N --addr A
      N connections at once from address A that send nothing; prints
      {"cut_at_once": how many the server closed within 0.5 s}.
"""
import argparse
import json
import resource
import selectors
import socket
import time

HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "


def more_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def connect_from(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def health(port):
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(2)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.startswith(b"HTTP/1.1 200"), time.monotonic() - t0
    except OSError:
        return False, time.monotonic() - t0


def gone(s):
    """The server closed s (reads the end or an error; never blocks)."""
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def flood(a):
    more_files()
    sel = selectors.DefaultSelector()
    conns = {}
    opened = 0
    for i in range(a.ips):
        addr = "127.0.0.%d" % (10 + i)
        for _ in range(a.per_ip):
            try:
                s = connect_from(addr, a.port)
                s.send(HEAD)
            except OSError:
                continue
            opened += 1
            conns[s] = time.monotonic()
            sel.register(s, selectors.EVENT_READ)
    cut = []
    ok = total = 0
    worst = 0.0
    end = time.monotonic() + a.hold
    next_trickle = next_health = time.monotonic()
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            if gone(s):
                cut.append(time.monotonic() - conns.pop(s))
                sel.unregister(s)
                s.close()
        now = time.monotonic()
        if now >= next_trickle:
            for s in list(conns):
                try:
                    s.send(b"x")   # one byte: the idle timeout starts over
                except OSError:
                    pass
            next_trickle = now + a.trickle
        if now >= next_health:
            good, took = health(a.port)
            total += 1
            ok += good
            worst = max(worst, took)
            next_health = time.monotonic() + 0.2
    print(json.dumps({"opened": opened, "health_ok": ok, "health_total": total,
                      "health_worst_s": round(worst, 3), "cut_after_s": [round(c, 2) for c in cut],
                      "alive": len(conns)}))
    for s in conns:
        s.close()


def per_ip(a):
    more_files()
    socks = []
    for _ in range(a.count):
        try:
            socks.append(connect_from(a.addr, a.port))
        except OSError:
            pass
    time.sleep(0.5)
    print(json.dumps({"cut_at_once": sum(1 for s in socks if gone(s)), "opened": len(socks)}))
    for s in socks:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["flood", "per-ip"])
    p.add_argument("port", type=int)
    p.add_argument("--ips", type=int, default=60)
    p.add_argument("--per-ip", type=int, default=20)
    p.add_argument("--hold", type=float, default=6)
    p.add_argument("--trickle", type=float, default=1.0)
    p.add_argument("--count", type=int, default=30)
    p.add_argument("--addr", default="127.0.0.99")
    a = p.parse_args()
    flood(a) if a.mode == "flood" else per_ip(a)


if __name__ == "__main__":
    main()
