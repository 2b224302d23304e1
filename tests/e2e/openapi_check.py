#!/usr/bin/python3
"""openapi_check.py — keeps GET /api/v1/openapi.json true (stdlib only).

  openapi_check.py BASE_URL ROUTES_FILE ADMIN_API_TOKEN TASK_ID CONVERSATION_ID

ROUTES_FILE is `errand serve --routes`.  Checks that the document lists exactly
the server's routes, then calls every operation: the answer's status must be
one the document lists, and a JSON answer must match the response schema
(types, required properties, enums; $ref and allOf resolved).  Routes that
need a token must answer 401 without one; a JSON body with an unknown field,
or without a required field, must answer 400 naming the field.  Prints one
line per problem and exits 1 if there was any.
"""
import json
import sys
import urllib.error
import urllib.request

problems = []


def problem(msg):
    problems.append(msg)
    print("openapi: " + msg)


def request(base, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method.upper())
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def resolve(doc, schema):
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def validate(doc, schema, value, where):
    schema = resolve(doc, schema)
    if "allOf" in schema:
        for s in schema["allOf"]:
            validate(doc, s, value, where)
        return
    if value is None:
        if not schema.get("nullable"):
            problem(f"{where}: null where the schema does not allow it")
        return
    kind = schema.get("type")
    checks = {"object": dict, "array": list, "string": str, "boolean": bool}
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            problem(f"{where}: expected an integer, got {value!r}")
        return
    if kind in checks and not isinstance(value, checks[kind]):
        problem(f"{where}: expected {kind}, got {type(value).__name__}")
        return
    if "enum" in schema and value not in schema["enum"]:
        problem(f"{where}: {value!r} is not one of {schema['enum']}")
    if kind == "object":
        for req in schema.get("required", []):
            if req not in value:
                problem(f"{where}: required property '{req}' missing")
        for k, v in value.items():
            if k in schema.get("properties", {}):
                validate(doc, schema["properties"][k], v, f"{where}.{k}")
            elif isinstance(schema.get("additionalProperties"), dict):
                validate(doc, schema["additionalProperties"], v, f"{where}.{k}")
    if kind == "array":
        for i, v in enumerate(value[:20]):
            validate(doc, schema.get("items", {}), v, f"{where}[{i}]")


def sample_body(op, base, admin):
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    body = {}
    for name in schema.get("required", []):
        if name == "api_token":
            body[name] = admin
        elif name == "refresh_token":
            _, _, raw = request(base, "post", "/api/v1/auth/token", body={"api_token": admin})
            body[name] = json.loads(raw)["refresh_token"]
        else:
            body[name] = "hello from the openapi check"
    return body


def check_answer(doc, op, label, status, ctype, raw):
    responses = op["responses"]
    if str(status) not in responses:
        problem(f"{label}: answered {status}, documented {sorted(responses)}")
        return
    content = responses[str(status)].get("content", {})
    if "application/json" in content and raw:
        if not ctype.startswith("application/json"):
            problem(f"{label}: {status} documented as JSON, sent {ctype}")
            return
        validate(doc, content["application/json"]["schema"], json.loads(raw), f"{label} {status}")


def check_operation(doc, base, admin, ids, path, method, op):
    label = f"{method.upper()} {path}"
    real = path.replace("{id}", ids["task"] if "/tasks/" in path else ids["conv"])
    real = real.replace("{name}", "code")
    body = sample_body(op, base, admin) if "requestBody" in op else None
    status, ctype, raw = request(base, method, real, admin, body)
    check_answer(doc, op, label, status, ctype, raw)
    if op.get("security"):
        status, ctype, raw = request(base, method, real, None, body)
        if status != 401:
            problem(f"{label}: answered {status} without a token, not 401")
        check_answer(doc, op, label + " (no token)", status, ctype, raw)
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("additionalProperties") is False:
        status, ctype, raw = request(base, method, real, admin, dict(body, bogus_field=1))
        field = json.loads(raw).get("error", {}).get("field") if status == 400 else None
        if field != "bogus_field":
            problem(f"{label}: an unknown field gave {status} naming {field!r}")
        for name in schema.get("required", []):
            partial = {k: v for k, v in body.items() if k != name}
            status, ctype, raw = request(base, method, real, admin, partial)
            field = json.loads(raw).get("error", {}).get("field") if status == 400 else None
            if field != name:
                problem(f"{label}: without '{name}' it gave {status} naming {field!r}")
            check_answer(doc, op, label + f" (no {name})", status, ctype, raw)


def main():
    base, routes_file, admin, task, conv = sys.argv[1:6]
    _, _, raw = request(base, "get", "/api/v1/openapi.json")
    doc = json.loads(raw)
    if not doc.get("openapi", "").startswith("3."):
        problem("not an OpenAPI 3 document")
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    served = set()
    for line in open(routes_file):
        parts = line.split()
        if len(parts) >= 2:
            served.add((parts[0], parts[1]))
    for m, p in sorted(served - documented):
        problem(f"route {m} {p} is served but not documented")
    for m, p in sorted(documented - served):
        problem(f"route {m} {p} is documented but not served")
    if len(served) < 10:
        problem(f"the route table has only {len(served)} routes")
    ids = {"task": task, "conv": conv}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for code, resp in op["responses"].items():
                ref = resp.get("content", {}).get("application/json", {}).get("schema", {})
                if "$ref" in ref and ref["$ref"].split("/")[-1] not in doc["components"]["schemas"]:
                    problem(f"{method} {path} {code}: unknown schema {ref['$ref']}")
            check_operation(doc, base, admin, ids, path, method, op)
    status, _, _ = request(base, "get", "/api/v1/undocumented")
    if status != 404:
        problem(f"an undocumented path answered {status}")
    print(f"openapi: {len(documented)} operations checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
