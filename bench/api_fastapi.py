"""api_fastapi.py — the comparison app for bench/api.sh: the same three routes
as `errand serve` doing the same storage work on the same SQLite schema, the
way the seed's FastAPI gateway would, with Debian's FastAPI + uvicorn at its
best here (uvloop, httptools, 2 workers; run with /usr/bin/python3).

  GET  /healthz              {"status":"ok"}
  GET  /api/v1/tasks/{id}    bearer JWT (HS256) checked; the task row, its events
                             and its subtasks read and returned as errand does
  POST /api/v1/chat          bearer checked, body validated; a conversation, a
                             task and a message inserted in one transaction
                             (as errand does), the task queued in memory

Environment: BENCH_DB (the SQLite file, migrated by errand), BENCH_SECRET (the
JWT key errand signs with).
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sqlite3
import time
import uuid
from typing import Optional

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

SECRET = os.environ["BENCH_SECRET"].encode()
DB = sqlite3.connect(os.environ["BENCH_DB"], isolation_level=None, check_same_thread=False)
DB.execute("PRAGMA journal_mode=WAL")
DB.execute("PRAGMA synchronous=NORMAL")
DB.execute("PRAGMA foreign_keys=ON")
DB.execute("PRAGMA busy_timeout=5000")
QUEUE: "asyncio.Queue[str]" = asyncio.Queue()
STATUS = ["queued", "routed", "running", "done", "failed", "cancelled"]
TASK_COLS = ("id, parent_id, conversation_id, user_id, trace_id, agent, request, result, error, "
             "meta, status, tokens_in, tokens_out, created_ms, updated_ms")

app = FastAPI()


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def user_of(authorization: Optional[str]) -> dict:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "missing bearer token")
    try:
        head, payload, sig = authorization[7:].split(".")
        if json.loads(b64d(head)).get("alg") != "HS256":
            raise ValueError("alg")
        mac = hmac.new(SECRET, (head + "." + payload).encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, b64d(sig)):
            raise ValueError("signature")
        claims = json.loads(b64d(payload))
        if claims.get("iss") != "errand" or claims["exp"] <= time.time():
            raise ValueError("claims")
        return claims
    except (ValueError, KeyError):
        raise HTTPException(401, "invalid token")


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)


def task_json(r) -> dict:
    return {"id": r[0], "parent_id": r[1], "conversation_id": r[2], "user_id": r[3],
            "status": STATUS[r[10]], "agent": r[5], "request": r[6], "result": r[7],
            "error": r[8], "tokens_in": r[11], "tokens_out": r[12],
            "created": iso(r[13]), "updated": iso(r[14])}


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.get("/api/v1/tasks/{task_id}")
async def task_get(task_id: str, authorization: Optional[str] = Header(None)):
    user = user_of(authorization)
    row = DB.execute(f"SELECT {TASK_COLS} FROM tasks WHERE id = ?", (task_id,)).fetchone()
    if not row or (user.get("role") != "admin" and row[3] != user["sub"]):
        return JSONResponse({"error": {"status": 404, "message": f"no task '{task_id}'"}}, 404)
    out = task_json(row)
    root = row[1] or row[0]
    out["steps"] = [{"id": e[0], "task_id": e[1], "root": root, "kind": e[2],
                     "data": json.loads(e[3]) if e[3] else None, "ts": e[4]}
                    for e in DB.execute("SELECT id, task_id, kind, data, created_ms FROM task_events "
                                        "WHERE task_id = ? ORDER BY id", (task_id,))]
    out["subtasks"] = [{"id": c[0], "agent": c[1], "status": STATUS[c[2]], "request": c[3]}
                       for c in DB.execute("SELECT id, agent, status, request FROM tasks "
                                           "WHERE parent_id = ? ORDER BY created_ms DESC LIMIT 200",
                                           (task_id,))]
    return out


class ChatIn(BaseModel):
    message: str = Field(..., min_length=1, max_length=65536)
    conversation_id: Optional[str] = Field(None, max_length=64)
    agent: Optional[str] = Field(None, max_length=32)

    class Config:
        extra = "forbid"


@app.post("/api/v1/chat", status_code=202)
async def chat(body: ChatIn, authorization: Optional[str] = Header(None)):
    user = user_of(authorization)
    now = int(time.time() * 1000)
    conv = str(uuid.uuid4())
    task = str(uuid.uuid4())
    meta = json.dumps({"agent": body.agent} if body.agent else {})
    DB.execute("BEGIN IMMEDIATE")
    DB.execute("INSERT INTO conversations (id, user_id, title, created_ms, updated_ms) "
               "VALUES (?, ?, ?, ?, ?)", (conv, user["sub"], body.message[:60], now, now))
    DB.execute(f"INSERT INTO tasks ({TASK_COLS}) VALUES (?, NULL, ?, ?, ?, NULL, ?, NULL, NULL, ?, 0, 0, 0, ?, ?)",
               (task, conv, user["sub"], task, body.message, meta, now, now))
    DB.execute("INSERT INTO messages (conversation_id, task_id, role, content, created_ms) "
               "VALUES (?, ?, 'user', ?, ?)", (conv, task, body.message, now))
    DB.execute("UPDATE conversations SET updated_ms = ? WHERE id = ?", (now, conv))
    DB.execute("COMMIT")
    QUEUE.put_nowait(json.dumps({"task_id": task}))
    return {"task_id": task, "conversation_id": conv, "status": "queued"}
