#!/usr/bin/env python3
"""fake_mcp_oauth.py — an MCP server that requires OAuth, and its
authorization server, for errand's tests of `errand mcp login`.

One HTTP listener on 127.0.0.1 plays both parties, each with its wire format:
  /mcp                                        the protected MCP resource
                                              (tools of fake_mcp.py, stateless
                                              revision); without a valid token:
                                              401 with a Bearer challenge naming
                                              resource_metadata (RFC 9728 §5.1)
  /.well-known/oauth-protected-resource/mcp   protected resource metadata
                                              (RFC 9728 §3, path-inserted)
  /.well-known/oauth-authorization-server/as  authorization server metadata of
                                              the issuer BASE/as (RFC 8414 §3)
  /as/register                                dynamic client registration
                                              (RFC 7591 §3: 201 + client info)
  /as/authorize                               consent, approved at once: 302 to
                                              the redirect_uri with code & state
                                              (RFC 6749 §4.1.2, PKCE RFC 7636,
                                              resource RFC 8707)
  /as/token                                   authorization_code and
                                              refresh_token grants; refresh
                                              tokens rotate (OAuth 2.1 §4.3.1):
                                              the old one becomes invalid_grant
Test controls (not part of any protocol):
  POST /_fake/expire    every access token issued so far stops working
  POST /_fake/revoke    every token (access and refresh) is revoked
  POST /_fake/mode?…    ttl=SECONDS (expires_in of the next tokens),
                        evil=1 (the resource metadata names an authorization
                        server at https://169.254.169.254/as), bad_issuer=1
                        (the AS metadata names another issuer), hint=0 (the
                        401 carries no resource_metadata)
  GET  /_fake/stats     counts and the last tokens issued
--log FILE records every request (path, method, form or JSON body, whether
it carried a bearer token) as a JSON line; --port-file F as fake_mcp.py."""
import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_mcp  # noqa: E402  (the MCP side: the same tools and messages)

SCOPE = "mcp:tools"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.clients = {}   # client_id -> registration
        self.codes = {}     # code -> grant
        self.access = {}    # token -> {client_id, resource, scope, expires}
        self.refresh = {}   # token -> {client_id, resource, scope}
        self.ttl = 3600
        self.evil = False
        self.bad_issuer = False
        self.hint = True
        self.stats = {"registrations": 0, "authorizations": 0, "code_grants": 0,
                      "refresh_grants": 0, "invalid_grants": 0, "unauthorized": 0,
                      "mcp_ok": 0, "last_access_token": "", "last_refresh_token": ""}
        self.mcp = fake_mcp.Server(argparse.Namespace(era="modern", log=None, http=True,
                                                      token=None, sse=False))

    def log(self, rec):
        if self.args.log:
            with self.lock, open(self.args.log, "a") as f:
                f.write(json.dumps(rec) + "\n")


def s256(verifier):
    d = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()


def make_handler(st):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        @property
        def base(self):
            return "http://127.0.0.1:%d" % self.server.server_address[1]

        def send(self, code, body=None, headers=(), ctype="application/json"):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            if body is not None:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def oauth_error(self, code, error, desc=""):
            # RFC 6749 §5.2: JSON error, no caching.
            self.send(code, {"error": error, "error_description": desc},
                      [("Cache-Control", "no-store")])

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n).decode()

        # ---- metadata ----
        def resource_metadata(self):
            as_url = "https://169.254.169.254/as" if st.evil else self.base + "/as"
            return {"resource": self.base + "/mcp", "authorization_servers": [as_url],
                    "scopes_supported": [SCOPE], "bearer_methods_supported": ["header"]}

        def server_metadata(self):
            b = self.base + "/as"
            return {"issuer": "https://issuer.example" if st.bad_issuer else b,
                    "authorization_endpoint": b + "/authorize",
                    "token_endpoint": b + "/token",
                    "registration_endpoint": b + "/register",
                    "response_types_supported": ["code"],
                    "grant_types_supported": ["authorization_code", "refresh_token"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["none"],
                    "scopes_supported": [SCOPE]}

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            st.log({"method": "GET", "path": u.path, "query": u.query})
            if u.path == "/.well-known/oauth-protected-resource/mcp":
                return self.send(200, self.resource_metadata())
            if u.path == "/.well-known/oauth-authorization-server/as":
                return self.send(200, self.server_metadata())
            if u.path == "/as/authorize":
                return self.authorize(urllib.parse.parse_qs(u.query))
            if u.path == "/_fake/stats":
                with st.lock:
                    return self.send(200, dict(st.stats))
            self.send(404, {"error": "not found"})

        # ---- authorization endpoint ----
        def authorize(self, q):
            p = {k: v[0] for k, v in q.items()}
            client = st.clients.get(p.get("client_id"))
            redirect = p.get("redirect_uri")
            # Errors about the client or redirect are shown, never redirected (§4.1.2.1).
            if not client:
                return self.send(400, {"error": "invalid_request", "error_description": "unknown client"})
            if redirect not in client["redirect_uris"]:
                return self.send(400, {"error": "invalid_request", "error_description": "redirect_uri not registered"})

            def back(params):
                sep = "&" if "?" in redirect else "?"
                loc = redirect + sep + urllib.parse.urlencode(dict(params, state=p.get("state", "")))
                self.send_response(302)
                self.send_header("Location", loc)
                self.send_header("Content-Length", "0")
                self.end_headers()
            if p.get("response_type") != "code":
                return back({"error": "unsupported_response_type"})
            if p.get("code_challenge_method") != "S256" or not p.get("code_challenge"):
                return back({"error": "invalid_request", "error_description": "PKCE S256 required"})
            if p.get("resource") != self.base + "/mcp":
                return back({"error": "invalid_target"})
            code = secrets.token_urlsafe(24)
            with st.lock:
                st.codes[code] = {"client_id": client["client_id"], "redirect_uri": redirect,
                                  "challenge": p["code_challenge"], "resource": p["resource"],
                                  "scope": p.get("scope", SCOPE), "at": time.time()}
                st.stats["authorizations"] += 1
            back({"code": code})

        # ---- POST endpoints ----
        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            raw = self.body()
            if u.path == "/mcp":
                return self.mcp(raw)
            if u.path == "/as/register":
                st.log({"method": "POST", "path": u.path, "json": raw})
                return self.register(raw)
            if u.path == "/as/token":
                form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                st.log({"method": "POST", "path": u.path, "form": form})
                return self.token(form)
            if u.path.startswith("/_fake/"):
                return self.control(u.path, urllib.parse.parse_qs(u.query))
            self.send(404, {"error": "not found"})

        def register(self, raw):
            try:
                meta = json.loads(raw)
            except ValueError:
                return self.send(400, {"error": "invalid_client_metadata"})
            uris = meta.get("redirect_uris")
            if not isinstance(uris, list) or not uris or not all(
                    isinstance(x, str) and x.startswith("http://127.0.0.1:") for x in uris):
                return self.send(400, {"error": "invalid_redirect_uri",
                                       "error_description": "loopback redirect URIs only"})
            if meta.get("token_endpoint_auth_method", "client_secret_basic") != "none":
                return self.send(400, {"error": "invalid_client_metadata",
                                       "error_description": "public clients only"})
            cid = "client-" + secrets.token_hex(8)
            info = dict(meta, client_id=cid, client_id_issued_at=int(time.time()))
            with st.lock:
                st.clients[cid] = info
                st.stats["registrations"] += 1
            self.send(201, info, [("Cache-Control", "no-store")])

        def issue(self, client_id, resource, scope):
            access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            st.access[access] = {"client_id": client_id, "resource": resource, "scope": scope,
                                 "expires": time.time() + st.ttl}
            st.refresh[refresh] = {"client_id": client_id, "resource": resource, "scope": scope}
            st.stats["last_access_token"], st.stats["last_refresh_token"] = access, refresh
            return {"access_token": access, "token_type": "Bearer", "expires_in": st.ttl,
                    "refresh_token": refresh, "scope": scope}

        def token(self, f):
            grant = f.get("grant_type")
            cid = f.get("client_id")
            with st.lock:
                if cid not in st.clients:
                    return self.oauth_error(401, "invalid_client", "unknown client")
                if grant == "authorization_code":
                    g = st.codes.pop(f.get("code", ""), None)
                    if (not g or g["client_id"] != cid or g["redirect_uri"] != f.get("redirect_uri")
                            or s256(f.get("code_verifier", "")) != g["challenge"]
                            or time.time() - g["at"] > 600):
                        st.stats["invalid_grants"] += 1
                        return self.oauth_error(400, "invalid_grant", "bad code or verifier")
                    if f.get("resource") != g["resource"]:
                        return self.oauth_error(400, "invalid_target")
                    st.stats["code_grants"] += 1
                    out = self.issue(cid, g["resource"], g["scope"])
                elif grant == "refresh_token":
                    r = st.refresh.pop(f.get("refresh_token", ""), None)  # rotation
                    if not r or r["client_id"] != cid:
                        st.stats["invalid_grants"] += 1
                        return self.oauth_error(400, "invalid_grant", "refresh token revoked")
                    if f.get("resource") not in (None, r["resource"]):
                        return self.oauth_error(400, "invalid_target")
                    st.stats["refresh_grants"] += 1
                    out = self.issue(cid, r["resource"], r["scope"])
                else:
                    return self.oauth_error(400, "unsupported_grant_type")
            self.send(200, out, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])

        def mcp(self, raw):
            auth = self.headers.get("Authorization") or ""
            tok = auth[7:] if auth.startswith("Bearer ") else None
            st.log({"method": "POST", "path": "/mcp", "bearer": bool(tok)})
            with st.lock:
                t = st.access.get(tok) if tok else None
                ok = t and t["expires"] > time.time() and t["resource"] == self.base + "/mcp"
                if not ok:
                    st.stats["unauthorized"] += 1
            if not ok:
                ch = 'Bearer realm="fake-mcp"'
                if st.hint:
                    ch += ', resource_metadata="%s/.well-known/oauth-protected-resource/mcp"' % self.base
                ch += ', scope="%s"' % SCOPE
                if tok:
                    ch += ', error="invalid_token", error_description="expired or revoked"'
                return self.send(401, {"error": "invalid_token" if tok else "unauthorized"},
                                 [("WWW-Authenticate", ch)])
            if self.headers.get("MCP-Protocol-Version") != fake_mcp.MODERN:
                return self.send(400, st.mcp.error(None, -32602, "unsupported MCP-Protocol-Version"))
            try:
                msg = json.loads(raw)
            except ValueError:
                return self.send(400, st.mcp.error(None, -32700, "Parse error"))
            with st.lock:
                st.stats["mcp_ok"] += 1
            out = st.mcp.handle(msg)
            if out is None:
                return self.send(202)
            self.send(200, out)

        def control(self, path, q):
            with st.lock:
                if path == "/_fake/expire":
                    for t in st.access.values():
                        t["expires"] = 0
                elif path == "/_fake/revoke":
                    st.access.clear()
                    st.refresh.clear()
                elif path == "/_fake/mode":
                    if "ttl" in q:
                        st.ttl = int(q["ttl"][0])
                    if "evil" in q:
                        st.evil = q["evil"][0] == "1"
                    if "bad_issuer" in q:
                        st.bad_issuer = q["bad_issuer"][0] == "1"
                    if "hint" in q:
                        st.hint = q["hint"][0] == "1"
                else:
                    return self.send(404, {"error": "not found"})
            self.send(200, {"ok": True})

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    args = p.parse_args()
    st = State(args)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(st))
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(httpd.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
