#!/usr/bin/python3
"""stuck_reader.py — a client that never reads, for t_api_stuck_reader.sh.

  stuck_reader.py PORT SERVER_PID TOKEN OTHER_TOKEN PATH BODY --wait S
      Opens a connection with a tiny receive buffer, sends POST PATH with BODY
      (a streaming request) as TOKEN's and never reads the answer.  Meanwhile,
      on other connections, GET /healthz and a short non-streaming chat
      completion as OTHER_TOKEN must be answered.  Then it waits up to S
      seconds for the server to let go of the connection: the server process
      no longer holds a socket for it (its fds, /proc/net/tcp).  Prints one
      JSON object: held_at_start, health_ok, health_worst_s, other_status, other_s,
      dropped_after_s (null: still held after S seconds).
"""
import json
import os
import socket
import sys
import time


def held(server_pid, server_port, client_port):
    """The server process still has an fd on its side of the connection."""
    inodes = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            local, remote, inode = f[1], f[2], f[9]
            if int(local.split(":")[1], 16) == server_port and \
               int(remote.split(":")[1], 16) == client_port:
                inodes.add(inode)
    fds = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % server_pid):
            try:
                fds.add(os.readlink("/proc/%d/fd/%s" % (server_pid, fd)))
            except OSError:
                pass
    except OSError:
        return False
    return any("socket:[%s]" % i in fds for i in inodes if i != "0")


def server_side(server_port, client_port):
    """State, send queue and inode of the server's end, for a failure's report."""
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == server_port and int(f[2].split(":")[1], 16) == client_port:
            return "st=%s queues=%s inode=%s" % (f[3], f[4], f[9])
    return "none"


def request(port, raw, timeout=10):
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(raw)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
            return status, time.monotonic() - t0
    except (OSError, ValueError, IndexError):
        return 0, time.monotonic() - t0


def post(path, body, token):
    return ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            "Connection: close\r\nContent-Length: %d\r\n\r\n%s"
            % (path, token, len(body), body)).encode()


def main():
    port, server_pid, token, other, path, body = sys.argv[1:7]
    port, server_pid = int(port), int(server_pid)
    wait = float(sys.argv[sys.argv.index("--wait") + 1])
    stuck = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    stuck.connect(("127.0.0.1", port))
    client_port = stuck.getsockname()[1]
    stuck.sendall(post(path, body, token))
    t0 = time.monotonic()
    time.sleep(1.0)  # the stream is under way, the client's window full
    held_at_start = held(server_pid, port, client_port)
    side = server_side(port, client_port)
    health_ok, worst = 0, 0.0
    for _ in range(5):
        st, took = request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        health_ok += st == 200
        worst = max(worst, took)
        time.sleep(0.1)
    other_body = json.dumps({"model": "code", "messages": [{"role": "user", "content": "hello there"}]})
    other_status, other_s = request(port, post("/v1/chat/completions", other_body, other), 30)
    dropped = None
    while time.monotonic() - t0 < wait:
        if not held(server_pid, port, client_port):
            dropped = round(time.monotonic() - t0, 2)
            break
        time.sleep(0.2)
    stuck.setblocking(False)
    try:  # what came before the client stopped reading, for a failure's report
        head = stuck.recv(120).decode("latin-1")
    except OSError as e:
        head = str(e)
    print(json.dumps({"server_side": side, "head": head, "held_at_start": held_at_start, "health_ok": health_ok, "health_worst_s": round(worst, 2),
                      "other_status": other_status, "other_s": round(other_s, 2),
                      "dropped_after_s": dropped, "client_port": client_port}))
    stuck.close()


main()
