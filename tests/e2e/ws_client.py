#!/usr/bin/python3
"""ws_client.py — a small RFC 6455 WebSocket client for the e2e tests (stdlib only).

  ws_client.py URL [--token T] [--query-token T] [--origin O] [--send JSON]...
               [--until-type TYPE] [--until-end] [--answer-approvals allow|deny|always]
               [--timeout SECONDS] [--no-read SECONDS]

Prints every message the server sends as one JSON line on stdout, in order.
Sends the --send messages after the server's hello.  Stops at the first
message of --until-type, or (--until-end) at the "end" event of a task tree's
root; exits 0 then, 3 on timeout, 2 when the handshake is refused (after
printing {"handshake": STATUS}).  --answer-approvals answers every
approval_request event on the socket.  --no-read S connects, subscribes, then
reads nothing for S seconds (a slow consumer) and reports whether the server
closed the connection.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Closed(Exception):
    pass


class WS:
    def __init__(self, url, token=None, query_token=None, origin=None, timeout=10):
        u = urllib.parse.urlparse(url)
        path = u.path or "/"
        query = u.query
        if query_token:
            query = (query + "&" if query else "") + "access_token=" + urllib.parse.quote(query_token)
        if query:
            path += "?" + query
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {u.hostname}:{u.port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if origin:
            lines.append(f"Origin: {origin}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        head = self._read_until(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode()
        self.status = int(status_line.split()[1])
        if self.status != 101:
            return
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if accept.encode() not in head:
            raise RuntimeError("bad Sec-WebSocket-Accept")

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send(self, obj):
        self.send_frame(1, json.dumps(obj).encode())

    def recv(self):
        """The next text message (str); raises Closed on a close frame."""
        parts = []
        while True:
            b1, b2 = self._read_exact(2)
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8))[0]
            payload = self._read_exact(n)
            opcode = b1 & 0x0F
            if opcode == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 0
                raise Closed(code, payload[2:].decode(errors="replace"))
            if opcode == 9:
                self.send_frame(10, payload)
                continue
            if opcode == 10:
                continue
            parts.append(payload)
            if b1 & 0x80:
                return b"".join(parts).decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--token")
    ap.add_argument("--query-token")
    ap.add_argument("--origin")
    ap.add_argument("--send", action="append", default=[])
    ap.add_argument("--until-type")
    ap.add_argument("--until-end", action="store_true")
    ap.add_argument("--answer-approvals")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--no-read", type=float)
    a = ap.parse_args()
    deadline = time.time() + a.timeout
    ws = WS(a.url, a.token, a.query_token, a.origin)
    if ws.status != 101:
        print(json.dumps({"handshake": ws.status}))
        return 2
    out = sys.stdout
    hello = json.loads(ws.recv())
    print(json.dumps(hello), file=out, flush=True)
    for m in a.send:
        ws.send(json.loads(m))
    if a.no_read is not None:
        time.sleep(a.no_read)
        ws.sock.settimeout(max(1.0, deadline - time.time()))
        closed = None
        try:
            while True:
                ws.recv()
        except Closed as e:
            closed = e.args[0] if e.args else 0
        except socket.timeout:
            closed = None
        print(json.dumps({"closed": closed}), file=out, flush=True)
        return 0
    while True:
        left = deadline - time.time()
        if left <= 0:
            print(json.dumps({"timeout": True}), file=out, flush=True)
            return 3
        ws.sock.settimeout(left)
        try:
            text = ws.recv()
        except socket.timeout:
            continue
        except Closed as e:
            print(json.dumps({"closed": e.args[0] if e.args else 0}), file=out, flush=True)
            return 4
        msg = json.loads(text)
        print(json.dumps(msg), file=out, flush=True)
        ev = msg.get("event") or {}
        if a.answer_approvals and msg.get("type") == "event" and ev.get("kind") == "approval_request":
            ws.send({"type": "approval", "task_id": ev.get("task_id"),
                     "call_id": (ev.get("data") or {}).get("call_id"), "decision": a.answer_approvals})
        if a.until_type and msg.get("type") == a.until_type:
            return 0
        if a.until_end and msg.get("type") == "event" and ev.get("kind") == "end" \
                and ev.get("task_id") == ev.get("root"):
            return 0


if __name__ == "__main__":
    sys.exit(main())
