/* test_server.c — the server's pieces without a socket: route matching,
 * replies and error bodies, request bodies (headers, JSON, validation against
 * a route's fields), JSON nesting, and authentication (API tokens, access
 * tokens, the Authorization header), with a store that fails where a test
 * says (tests/fakes/backends/).
 *
 * A request is a srv_req built here; its headers come from a table this file
 * puts behind libmicrohttpd's header lookup (the srv_mhd function table). */
#define SRV_MHD_NO_REDIRECT /* this file fills srv_mhd itself */
#include "check.h"
#include "fake_backends.h"
#include "server.h"
#include "errand/store_usage.h"
#include "crypto_api.h"
#include "errand/alloc.h"
#include "errand/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

static char dir[] = "/tmp/errand-server-XXXXXX";

/* ---- requests without a connection ---- */

typedef struct fake_conn {
    const char *headers[8][2]; /* name, value; NULL name ends */
} fake_conn;

/* The query of the request being made: name, value, …, NULL (or NULL). */
static const char *const *query_args;

static const char *lookup(struct MHD_Connection *conn, enum MHD_ValueKind kind, const char *key)
{
    const fake_conn *c = (const fake_conn *)conn;
    if (kind == MHD_GET_ARGUMENT_KIND) {
        for (size_t i = 0; query_args && query_args[i]; i += 2)
            if (strcmp(query_args[i], key) == 0)
                return query_args[i + 1];
        return NULL;
    }
    if (kind != MHD_HEADER_KIND)
        return NULL;
    for (size_t i = 0; i < 8 && c->headers[i][0]; i++)
        if (strcasecmp(c->headers[i][0], key) == 0)
            return c->headers[i][1];
    return NULL;
}

static void req_init(srv_req *r, srv *s, fake_conn *conn, const char *method, const char *path)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->conn = (struct MHD_Connection *)conn;
    r->method = method;
    r->path = path;
    er_strlcpy(r->request_id, "req-1", sizeof r->request_id);
    er_buf_init(&r->in, (size_t)s->cfg->max_body);
    er_buf allow = ER_BUF_INIT;
    r->route = srv_route_find(method, path, r->params, &r->route_idx, &allow);
    er_buf_release(&allow);
}

static void req_release(srv_req *r)
{
    cJSON_Delete(r->body);
    er_buf_release(&r->in);
    er_buf_release(&r->headers);
    er_buf_release(&r->reply);
}

/* The reply's error object, parsed (OWNED), or NULL. */
static cJSON *reply_error(const srv_req *r)
{
    cJSON *j = NULL;
    er_error err = { 0 };
    if (!r->reply.len || er_json_parse(&j, r->reply.ptr, r->reply.len, &err))
        return NULL;
    return j;
}

static const char *error_field(cJSON *j, const char *name)
{
    return er_json_str(er_json_obj(j, "error"), name);
}

/* ---- the web interface's files (static.c) ---- */

static void put_file(const char *rel, const char *text)
{
    char *path = er_xasprintf("%s/web/%s", dir, rel);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(path);
}

/* GET path with the given Accept-Encoding (NULL: none): the status
 * srv_static_serve returned; the reply stays in *r (release it). */
static int get_static(srv *s, srv_req *r, fake_conn *conn, const char *path, const char *ae)
{
    memset(conn, 0, sizeof *conn);
    if (ae) {
        conn->headers[0][0] = "Accept-Encoding";
        conn->headers[0][1] = ae;
    }
    req_init(r, s, conn, "GET", path);
    return srv_static_serve(r);
}

static void test_static(srv *s, er_config *cfg)
{
    CHECK(srv_static_path_ok("/"));
    CHECK(srv_static_path_ok("/assets/index-B_x9.js"));
    CHECK(!srv_static_path_ok("/../etc/passwd"));
    CHECK(!srv_static_path_ok("/assets/../../x"));
    CHECK(!srv_static_path_ok("/.env"));
    CHECK(!srv_static_path_ok("/assets//x.js"));
    CHECK(!srv_static_path_ok("/a b.js"));
    CHECK(!srv_static_path_ok("/a%2e.js"));
    CHECK(!srv_static_path_ok("relative.js"));

    er_error err = { 0 };
    char *root = er_xasprintf("%s/web", dir);
    CHECK_OK(er_config_set(cfg, "server.web_root", root, &err));
    srv_req r;
    fake_conn conn;
    /* Not built yet: / says how to build it; other paths are not found. */
    CHECK_INT(get_static(s, &r, &conn, "/", NULL), 503);
    CHECK(strstr(er_buf_cstr(&r.reply), "make web") != NULL);
    req_release(&r);

    char *assets = er_xasprintf("%s/assets", root);
    CHECK(mkdir(root, 0700) == 0 && mkdir(assets, 0700) == 0);
    free(assets);
    put_file("index.html", "<!doctype html><title>errand</title>");
    put_file("index.html.gz", "GZ");
    put_file("assets/app-1a2b.js", "console.log(1)");
    put_file(".secret", "no");

    CHECK_INT(get_static(s, &r, &conn, "/", NULL), 200);
    CHECK_STR(r.ctype, "text/html; charset=utf-8");
    CHECK_STR(er_buf_cstr(&r.reply), "<!doctype html><title>errand</title>");
    CHECK(strstr(er_buf_cstr(&r.headers),
                 "Content-Security-Policy: default-src 'none'; script-src 'self';") != NULL);
    CHECK(strstr(er_buf_cstr(&r.headers), "Cache-Control: no-cache\r\n") != NULL);
    CHECK(strstr(er_buf_cstr(&r.headers), "Content-Encoding") == NULL);
    CHECK(r.cache_set);
    req_release(&r);

    CHECK_INT(get_static(s, &r, &conn, "/", "gzip, deflate, br"), 200);
    CHECK_STR(er_buf_cstr(&r.reply), "GZ");
    CHECK(strstr(er_buf_cstr(&r.headers), "Content-Encoding: gzip\r\n") != NULL);
    req_release(&r);

    CHECK_INT(get_static(s, &r, &conn, "/assets/app-1a2b.js", "gzip"), 200);
    CHECK_STR(r.ctype, "text/javascript; charset=utf-8");
    CHECK_STR(er_buf_cstr(&r.reply), "console.log(1)"); /* no .gz beside it */
    CHECK(strstr(er_buf_cstr(&r.headers), "immutable") != NULL);
    CHECK(strstr(er_buf_cstr(&r.headers), "Content-Security-Policy") == NULL);
    req_release(&r);

    CHECK_INT(get_static(s, &r, &conn, "/.secret", NULL), 0);
    req_release(&r);
    CHECK_INT(get_static(s, &r, &conn, "/assets/missing.js", NULL), 0);
    req_release(&r);
    CHECK_INT(get_static(s, &r, &conn, "/assets", NULL), 0); /* a directory */
    req_release(&r);
    free(root);
}

/* ---- routing ---- */

static void test_route_find(void)
{
    char params[SRV_MAX_PARAMS][SRV_PARAM_MAX];
    size_t idx;
    er_buf allow = ER_BUF_INIT;
    const srv_route *rt = srv_route_find("GET", "/api/v1/tasks/abc123", params, &idx, &allow);
    CHECK(rt != NULL);
    CHECK_STR(rt ? rt->name : NULL, "tasks.get");
    CHECK_STR(params[0], "abc123");
    CHECK(idx < srv_nroutes && &srv_routes[idx] == rt);
    /* HEAD is GET without the body. */
    rt = srv_route_find("HEAD", "/api/v1/tasks/abc123", params, &idx, &allow);
    CHECK_STR(rt ? rt->name : NULL, "tasks.get");
    rt = srv_route_find("POST", "/api/v1/tasks/abc123/cancel", params, &idx, &allow);
    CHECK_STR(rt ? rt->name : NULL, "tasks.cancel");
    CHECK_STR(params[0], "abc123");
    /* Same path, the method decides. */
    rt = srv_route_find("PUT", "/api/v1/agents/code/config", params, &idx, &allow);
    CHECK_STR(rt ? rt->name : NULL, "agents.config.put");
    CHECK_STR(params[0], "code");

    /* A path some route has, a method none has: what is allowed, for the 405. */
    er_buf_reset(&allow);
    rt = srv_route_find("DELETE", "/api/v1/tasks/abc123", params, &idx, &allow);
    CHECK(rt == NULL);
    CHECK_INT(idx, srv_nroutes);
    CHECK_STR(er_buf_cstr(&allow), "GET, HEAD");
    er_buf_reset(&allow);
    rt = srv_route_find("GET", "/api/v1/agents/code/config", params, &idx, &allow);
    CHECK_STR(rt ? rt->name : NULL, "agents.config.get");
    /* No such path: nothing allowed (a 404). */
    const char *none[] = {
        "/api/v1/tasks/", "/api/v1/task", "/api/v1/tasks/a/b", "/API/v1/tasks", "", "/"
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(none); i++) {
        er_buf_reset(&allow);
        CHECK(srv_route_find("GET", none[i], params, &idx, &allow) == NULL);
        CHECK_INT(allow.len, 0);
    }
    /* A path parameter longer than the server keeps is no match. */
    char long_path[SRV_PARAM_MAX + 32];
    snprintf(long_path, sizeof long_path, "/api/v1/tasks/%0*d", SRV_PARAM_MAX, 0);
    CHECK(srv_route_find("GET", long_path, params, &idx, &allow) == NULL);
    er_buf_release(&allow);

    /* Every route is found by its own path (parameters filled in). */
    for (size_t i = 0; i < srv_nroutes; i++) {
        char path[256];
        size_t n = 0;
        for (const char *p = srv_routes[i].path; *p && n + 2 < sizeof path; p++) {
            if (*p == '{') {
                path[n++] = 'x';
                p = strchr(p, '}');
            } else {
                path[n++] = *p;
            }
        }
        path[n] = '\0';
        er_buf a = ER_BUF_INIT;
        CHECK(srv_route_find(srv_routes[i].method, path, params, &idx, &a) == &srv_routes[i]);
        er_buf_release(&a);
    }
}

/* ---- replies ---- */

static void test_replies(srv *s)
{
    fake_conn conn = { { { NULL, NULL } } };
    srv_req r;
    req_init(&r, s, &conn, "GET", "/healthz");
    CHECK_INT(srv_reply_error(&r, 404, "id", "no task '%s'", "x"), 404);
    CHECK_INT(r.status, 404);
    CHECK_STR(r.ctype, "application/json");
    cJSON *j = reply_error(&r);
    CHECK_STR(error_field(j, "code"), "not_found");
    CHECK_STR(error_field(j, "message"), "no task 'x'");
    CHECK_STR(error_field(j, "field"), "id");
    CHECK(er_json_num(er_json_obj(j, "error"), "status", 0) == 404);
    CHECK_STR(er_json_str(j, "request_id"), "req-1");
    cJSON_Delete(j);
    /* The first answer stands. */
    CHECK_INT(srv_reply(&r, 200, "text/plain", NULL, "late", 4), 404);
    req_release(&r);

    /* Server-side failures: the status of the code, no details for the client. */
    static const struct {
        int code, status;
    } map[] = {
        { ER_EINVAL, 400 },    { ER_EAUTH, 401 },     { ER_EDENIED, 403 }, { ER_ENOTFOUND, 404 },
        { ER_ECONFLICT, 409 }, { ER_EEXISTS, 409 },   { ER_ETOOBIG, 413 }, { ER_EPROTO, 502 },
        { ER_EUNAVAIL, 503 },  { ER_ETIMEDOUT, 504 }, { ER_EIO, 500 },     { ER_EINTERNAL, 500 },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(map); i++)
        CHECK_INT(srv_status_of(map[i].code), map[i].status);
    req_init(&r, s, &conn, "GET", "/healthz");
    er_error err = { ER_EIO, "disk on fire at /var/lib/secret" };
    CHECK_INT(srv_reply_err(&r, &err), 500);
    CHECK(strstr(er_buf_cstr(&r.reply), "secret") == NULL);
    CHECK(strstr(er_buf_cstr(&r.reply), "req-1") != NULL);
    req_release(&r);
}

/* ---- bodies ---- */

/* A body for the chat route with these headers: the status body.c answers
 * (0: accepted, r->body set).  *out gets the parsed error reply, if any. */
static int chat_body(srv *s, const char *ctype, const char *length, const char *body, size_t len,
                     cJSON **out)
{
    fake_conn conn = {
        { { "Content-Type", ctype }, { "Content-Length", length }, { NULL, NULL } }
    };
    if (!ctype)
        conn.headers[0][0] = "X-None";
    srv_req r;
    req_init(&r, s, &conn, "POST", "/api/v1/chat");
    int status = srv_body_headers(&r);
    if (!status) {
        er_buf_append(&r.in, body, len);
        status = srv_body_parse(&r);
        CHECK(status != 0 || cJSON_IsObject(r.body));
    }
    if (out)
        *out = reply_error(&r);
    req_release(&r);
    return status;
}

/* The status, and the field the error names (NULL: none), for a chat body. */
static void expect_body(srv *s, const char *body, int status, const char *field, const char *words)
{
    cJSON *j = NULL;
    int got = chat_body(s, "application/json", NULL, body, strlen(body), &j);
    if (got != status)
        fprintf(stderr, "body %s: status %d, expected %d\n", body, got, status);
    CHECK_INT(got, status);
    if (field)
        CHECK_STR(error_field(j, "field"), field);
    if (words)
        CHECK(error_field(j, "message") && strstr(error_field(j, "message"), words));
    cJSON_Delete(j);
}

static void test_bodies(srv *s)
{
    cJSON *j = NULL;
    /* The headers, before any of the body is read. */
    CHECK_INT(chat_body(s, NULL, NULL, "{}", 2, NULL), 415);
    CHECK_INT(chat_body(s, "text/plain", NULL, "{}", 2, NULL), 415);
    CHECK_INT(chat_body(s, "application/jsonp", NULL, "{}", 2, NULL), 415);
    CHECK_INT(
        chat_body(s, "application/json; charset=utf-8", NULL, "{\"message\":\"hi\"}", 16, NULL), 0);
    CHECK_INT(chat_body(s, "Application/JSON", NULL, "{\"message\":\"hi\"}", 16, NULL), 0);
    char over[32];
    snprintf(over, sizeof over, "%ld", s->cfg->max_body + 1);
    CHECK_INT(chat_body(s, "application/json", over, "{}", 2, &j), 413);
    CHECK(strstr(error_field(j, "message"), "server.max_body") != NULL);
    cJSON_Delete(j);

    /* The JSON itself. */
    expect_body(s, "", 400, NULL, "empty");
    expect_body(s, "{\"message\":", 400, NULL, "not valid JSON");
    expect_body(s, "[1,2]", 400, NULL, "JSON object");
    expect_body(s, "{\"message\":\"a\\u0000b\"}", 400, NULL, "NUL");
    expect_body(s, "{\"message\":\"caf\xe9\"}", 400, "message", "UTF-8");
    /* Against the route's fields. */
    expect_body(s, "{\"message\":\"hi\"}", 0, NULL, NULL);
    expect_body(s, "{\"message\":\"hi\",\"agent\":null}", 0, NULL, NULL);
    expect_body(s, "{}", 400, "message", "required");
    expect_body(s, "{\"message\":\"\"}", 400, "message", "empty");
    expect_body(s, "{\"message\":7}", 400, "message", "a string");
    expect_body(s, "{\"message\":\"hi\",\"mood\":\"good\"}", 400, "mood", "unknown field");
    expect_body(s, "{\"message\":\"a\",\"message\":\"b\"}", 400, "message", "2 times");
    er_buf big = ER_BUF_INIT;
    er_buf_puts(&big, "{\"message\":\"hi\",\"agent\":\"");
    for (int i = 0; i < 40; i++)
        er_buf_putc(&big, 'a');
    er_buf_puts(&big, "\"}");
    expect_body(s, er_buf_cstr(&big), 400, "agent", "longer than 32");
    er_buf_release(&big);
}

static void test_json_depth(void)
{
    er_buf b = ER_BUF_INIT;
    cJSON *j = NULL;
    er_error err = { 0 };
    for (int i = 0; i < SRV_JSON_DEPTH; i++)
        er_buf_putc(&b, '[');
    for (int i = 0; i < SRV_JSON_DEPTH; i++)
        er_buf_putc(&b, ']');
    CHECK_OK(srv_json_parse(&j, b.ptr, b.len, &err));
    cJSON_Delete(j);
    er_buf_reset(&b);
    for (int i = 0; i <= SRV_JSON_DEPTH; i++)
        er_buf_putc(&b, '{');
    CHECK_INT(srv_json_parse(&j, b.ptr, b.len, &err), ER_EPROTO);
    CHECK(j == NULL && strstr(err.msg, "deeper") != NULL);
    /* Brackets inside strings are not nesting. */
    er_buf_reset(&b);
    er_buf_puts(&b, "{\"a\":\"");
    for (int i = 0; i <= SRV_JSON_DEPTH; i++)
        er_buf_puts(&b, "[{\\\"");
    er_buf_puts(&b, "\"}");
    CHECK_OK(srv_json_parse(&j, b.ptr, b.len, &err));
    cJSON_Delete(j);
    er_buf_release(&b);
}

/* ---- authentication ---- */

static int auth_header(srv *s, const char *value, srv_user *user)
{
    fake_conn conn = { { { "Authorization", value }, { NULL, NULL } } };
    if (!value)
        conn.headers[0][0] = "X-None";
    srv_req r;
    req_init(&r, s, &conn, "GET", "/api/v1/auth/me");
    int status = srv_auth_request(&r);
    if (status)
        CHECK(strstr(er_buf_cstr(&r.headers), "WWW-Authenticate: Bearer") != NULL || status >= 500);
    *user = r.user;
    req_release(&r);
    return status;
}

static void test_auth(srv *s, fake *store_ctl)
{
    er_store *st;
    er_error err = { 0 };
    char ada[ER_ID_LEN], bob[ER_ID_LEN], token[SRV_TOKEN_MAX], token_id[ER_ID_LEN];
    CHECK_OK(er_env_store(s->env, &st, &err));
    CHECK_OK(er_store_user_ensure(st, "ada", "admin", ada, &err));
    CHECK_OK(er_store_user_ensure(st, "bob", "user", bob, &err));
    CHECK_OK(srv_api_token_issue(st, bob, "laptop", token, token_id, &err));

    /* API tokens. */
    srv_user u;
    CHECK_OK(srv_auth_token(s, token, &u, &err));
    CHECK_STR(u.id, bob);
    CHECK_STR(u.name, "bob");
    CHECK(!u.admin);
    CHECK_INT(srv_auth_token(s, "ert_nosuchtoken", &u, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "unknown or revoked") != NULL);
    CHECK_INT(srv_auth_token(s, "", &u, &err), ER_EAUTH);

    /* Access tokens: issued, accepted; tampered, unsigned or expired, refused. */
    er_user eu = { 0 };
    CHECK_OK(er_store_user_get(st, "ada", &eu, &err));
    cJSON *pair = NULL;
    CHECK_OK(srv_auth_issue(s, &eu, NULL, NULL, &pair, &err));
    er_user_release(&eu);
    char *access = er_xstrdup(er_json_str(pair, "access_token"));
    CHECK_OK(srv_auth_token(s, access, &u, &err));
    CHECK_STR(u.id, ada);
    CHECK(u.admin);
    char *bad = er_xstrdup(access);
    char *last = bad + strlen(bad) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    CHECK_INT(srv_auth_token(s, bad, &u, &err), ER_EAUTH);
    free(bad);
    cJSON *claims = cJSON_CreateObject();
    er_json_add_str(claims, "iss", "errand");
    er_json_add_str(claims, "sub", ada);
    er_json_add_str(claims, "role", "admin");
    er_json_add_num(claims, "exp", (double)(er_time_ms() / 1000 - 3600));
    char *expired = srv_jwt_sign_hs256(s->jwt_hmac, claims);
    CHECK_INT(srv_auth_token(s, expired, &u, &err), ER_EAUTH);
    free(expired);
    cJSON_Delete(claims);
    /* {"alg":"none"}: never accepted, whatever the claims. */
    CHECK_INT(srv_auth_token(s, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", &u, &err), ER_EAUTH);

    /* The Authorization header. */
    char *header = er_xasprintf("Bearer %s", token);
    CHECK_INT(auth_header(s, header, &u), 0);
    CHECK_STR(u.id, bob);
    CHECK_INT(auth_header(s, NULL, &u), 401);
    CHECK_INT(auth_header(s, "Basic Ym9iOnB3", &u), 401);
    CHECK_INT(auth_header(s, "Bearer ert_wrong", &u), 401);
    char *lower = er_xasprintf("bearer   %s", access);
    CHECK_INT(auth_header(s, lower, &u), 0);
    CHECK_STR(u.id, ada);
    /* The store failing is no reason to call the token bad: 503, try later. */
    fake_fail(store_ctl, "query", NULL, 1, ER_EUNAVAIL);
    CHECK_INT(auth_header(s, header, &u), 503);
    CHECK_INT(fake_failed(store_ctl), 1);
    CHECK_INT(auth_header(s, header, &u), 0);
    free(lower);
    free(header);
    free(access);
    cJSON_Delete(pair);
}

/* ---- GET /api/v1/usage (routes_usage.c) ---- */

/* Calls the route as user (admin or not) with the query's name=value pairs;
 * returns the status, the reply parsed into *out (OWNED). */
static int usage_call(srv *s, const char *user, bool admin, const char *const *query, cJSON **out)
{
    fake_conn conn = { { { NULL, NULL } } };
    query_args = query;
    srv_req r;
    req_init(&r, s, &conn, "GET", "/api/v1/usage");
    CHECK(r.route && strcmp(r.route->name, "usage") == 0);
    CHECK(r.route->flags & SRV_AUTH); /* the router answers 401 before the handler */
    er_strlcpy(r.user.id, user, sizeof r.user.id);
    r.user.admin = admin;
    int status = r.route->fn(&r);
    query_args = NULL;
    *out = reply_error(&r);
    req_release(&r);
    return status;
}

static void test_usage_route(srv *s, fake *store_ctl)
{
    er_store *st;
    er_error err = { 0 };
    char ada[ER_ID_LEN], bob[ER_ID_LEN], eve[ER_ID_LEN], conv[ER_ID_LEN];
    CHECK_OK(er_env_store(s->env, &st, &err));
    CHECK_OK(er_store_user_ensure(st, "ada", "admin", ada, &err));
    CHECK_OK(er_store_user_ensure(st, "bob", "user", bob, &err));
    CHECK_OK(er_store_user_ensure(st, "eve", "user", eve, &err));
    CHECK_OK(er_store_conv_create(st, bob, "bob's", conv, &err));
    er_task t = { 0 };
    er_strlcpy(t.user_id, bob, ER_ID_LEN);
    er_strlcpy(t.conversation_id, conv, ER_ID_LEN);
    t.request = (char *)"count";
    CHECK_OK(er_store_task_create(st, &t, &err));
    er_usage rows[] = {
        { .task_id = t.id,
          .user_id = bob,
          .agent = "code",
          .model = "m",
          .input_tokens = 100,
          .output_tokens = 10,
          .cost_micros = 300,
          .cached_tokens = 60 },
        { .task_id = "eve-task",
          .user_id = eve,
          .agent = "research",
          .model = "m",
          .input_tokens = 7,
          .output_tokens = 1,
          .cost_micros = 20 },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(rows); i++)
        CHECK_OK(er_store_usage_add(st, &rows[i], &err));

    cJSON *j;
    CHECK_INT(usage_call(s, bob, false, NULL, &j), 200);
    CHECK(er_json_int(er_json_obj(j, "total"), "requests", 0, 0, 99) == 1);
    CHECK(er_json_int(er_json_obj(j, "total"), "cached_tokens", 0, 0, 999) == 60);
    CHECK(er_json_num(er_json_obj(j, "total"), "cost_usd", 0) == 0.0003);
    cJSON_Delete(j);
    const char *by_conv[] = { "by", "conversation", NULL };
    CHECK_INT(usage_call(s, bob, false, by_conv, &j), 200);
    CHECK_STR(er_json_str(cJSON_GetArrayItem(er_json_arr(j, "rows"), 0), "conversation_id"), conv);
    cJSON_Delete(j);
    /* Another user's conversation sums to nothing; naming them is refused. */
    const char *theirs[] = { "conversation_id", conv, NULL };
    CHECK_INT(usage_call(s, eve, false, theirs, &j), 200);
    CHECK(er_json_int(er_json_obj(j, "total"), "requests", -1, -1, 99) == 0);
    cJSON_Delete(j);
    const char *name_bob[] = { "user_id", bob, NULL };
    CHECK_INT(usage_call(s, eve, false, name_bob, &j), 403);
    CHECK_STR(error_field(j, "field"), "user_id");
    cJSON_Delete(j);
    const char *by_user[] = { "by", "user", NULL };
    CHECK_INT(usage_call(s, eve, false, by_user, &j), 403);
    cJSON_Delete(j);
    /* An admin: everyone's, per user, or one user's. */
    CHECK_INT(usage_call(s, ada, true, by_user, &j), 200);
    CHECK_INT(cJSON_GetArraySize(er_json_arr(j, "rows")), 2);
    cJSON_Delete(j);
    CHECK_INT(usage_call(s, ada, true, name_bob, &j), 200);
    CHECK(er_json_int(er_json_obj(j, "total"), "requests", 0, 0, 99) == 1);
    cJSON_Delete(j);
    /* Bad input names the parameter. */
    const char *bad[][3] = { { "by", "week", NULL },
                             { "by", "all", NULL },
                             { "from", "2026-1-1", NULL },
                             { "to", "tomorrow", NULL } };
    for (size_t i = 0; i < ER_ARRAY_LEN(bad); i++) {
        CHECK_INT(usage_call(s, bob, false, bad[i], &j), 400);
        CHECK_STR(error_field(j, "field"), bad[i][0]);
        cJSON_Delete(j);
    }
    /* The store down: 503, no details. */
    int failed = fake_failed(store_ctl);
    fake_fail(store_ctl, "query", NULL, 1, ER_EUNAVAIL);
    CHECK_INT(usage_call(s, bob, false, NULL, &j), 503);
    CHECK(strstr(error_field(j, "message"), "fake store") == NULL);
    cJSON_Delete(j);
    CHECK_INT(fake_failed(store_ctl), failed + 1);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    er_error err = { 0 };
    if (srv_crypto_load(&err)) {
        fprintf(stderr, "skipped: %s\n", err.msg);
        return 77;
    }
    srv_mhd.MHD_lookup_connection_value = lookup;
    setenv("XDG_CONFIG_HOME", dir, 1);
    setenv("XDG_DATA_HOME", dir, 1);
    unsetenv("DATABASE_URL");
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    CHECK_OK(er_config_load(cfg, NULL, &err));
    CHECK_OK(er_config_set(cfg, "server.jwt_secret", "0123456789abcdef0123456789abcdef", &err));
    CHECK_OK(er_config_set(cfg, "server.max_body", "4096", &err));
    er_env *env = NULL;
    CHECK_OK(er_env_new(&env, cfg, &err));
    er_store *real = NULL, *st = NULL;
    char *url = er_xasprintf("sqlite://%s/server.db", dir);
    CHECK_OK(er_store_open(&real, url, &err));
    free(url);
    if (!real)
        return 1;
    CHECK_OK(er_store_migrate(real, NULL, &err));
    fake *store_ctl;
    fake_store_wrap(&st, real, &store_ctl);
    er_env_adopt(env, st, NULL, NULL);
    srv s = { .env = env, .cfg = cfg };
    CHECK_OK(srv_auth_init(&s, &err));
    CHECK_OK(srv_sessions_start(&s, &err));

    test_route_find();
    test_replies(&s);
    test_bodies(&s);
    test_json_depth();
    test_auth(&s, store_ctl);
    test_usage_route(&s, store_ctl);
    test_static(&s, cfg);

    srv_sessions_stop(&s);
    srv_hmac_free(s.jwt_hmac);
    er_env_close(env);
    char *cmd = er_xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return check_done();
}
