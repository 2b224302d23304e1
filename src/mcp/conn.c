/* conn.c — one MCP connection: JSON-RPC over a stdio child or Streamable HTTP,
 * the dual-era opening (server/discover, else initialize), tools (mcp.h).
 *
 * A stdio server talks over a socketpair rather than pipes: writes use
 * MSG_NOSIGNAL, so a server that died is an error, never a SIGPIPE. */
#include "errand/mcp.h"
#include "errand/alloc.h"
#include "errand/http.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/mcp_auth.h"
#include "errand/sse.h"
#include "errand/str.h"
#include "errand/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MSG_MAX             (16 * 1024 * 1024)
#define DISCOVER_TIMEOUT_MS 10000
#define LIST_PAGES_MAX      100
/* http_once: the login's token was refused; refresh it and ask again. */
#define RETRY_REFRESHED 1

struct er_mcp_conn {
    const er_mcp_server_cfg *cfg; /* BORROWED */
    const er_netguard *guard;     /* BORROWED */
    bool modern;                  /* per-request _meta, no session */
    char version[16];
    long next_id;
    bool tools_changed;
    cJSON *caps;  /* the server's capabilities */
    char *token;  /* the bearer token, resolved when opened */
    er_store *st; /* BORROWED: where a login's tokens are (mcp_auth.h), or NULL */
    bool login;   /* token is the login's: refreshed when due and on a 401 */
    /* stdio */
    pid_t pid;
    int fd;
    er_buf in;
    int restarts;
    /* Streamable HTTP (legacy revisions) */
    char *session;
};

static long timeout_ms(const er_mcp_conn *c)
{
    return c->cfg->timeout * 1000;
}

/* ---- messages ---- */

static cJSON *client_info(void)
{
    cJSON *i = cJSON_CreateObject();
    er_json_add_str(i, "name", "errand");
    er_json_add_str(i, "version", ER_VERSION);
    return i;
}

static cJSON *message(er_mcp_conn *c, long id, const char *method, cJSON *params)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "jsonrpc", "2.0");
    if (id >= 0)
        er_json_add_num(m, "id", (double)id);
    er_json_add_str(m, "method", method);
    if (c->modern) {
        if (!params)
            params = cJSON_CreateObject();
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
        if (!cJSON_IsObject(meta)) {
            meta = cJSON_CreateObject();
            er_json_add(params, "_meta", meta);
        }
        er_json_add_str(meta, "io.modelcontextprotocol/protocolVersion", ER_MCP_VERSION);
        er_json_add(meta, "io.modelcontextprotocol/clientCapabilities", cJSON_CreateObject());
        er_json_add(meta, "io.modelcontextprotocol/clientInfo", client_info());
    }
    if (params)
        er_json_add(m, "params", params);
    return m;
}

static void reply_error(cJSON *reply, int code, const char *text)
{
    cJSON *e = cJSON_CreateObject();
    er_json_add_num(e, "code", code);
    er_json_add_str(e, "message", text);
    er_json_add(reply, "error", e);
}

static int send_text(er_mcp_conn *c, const char *text, const char *method, long id, er_error *err);

/* A message from the server.  1: the response to want (*result, *rpc_error
 * set); 0: something else, handled. */
static int on_message(er_mcp_conn *c, const cJSON *msg, long want, cJSON **result,
                      cJSON **rpc_error)
{
    const char *method = er_json_str(msg, "method");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    if (method && id) {
        /* A request from the server: errand offers none of the client features. */
        cJSON *reply = cJSON_CreateObject();
        er_json_add_str(reply, "jsonrpc", "2.0");
        er_json_add(reply, "id", cJSON_Duplicate(id, true));
        if (strcmp(method, "ping") == 0)
            er_json_add(reply, "result", cJSON_CreateObject());
        else
            reply_error(reply, -32601, "errand does not offer this client feature");
        char *text = er_json_print(reply);
        cJSON_Delete(reply);
        er_error ignored = { 0 };
        send_text(c, text, NULL, -1, &ignored);
        free(text);
        return 0;
    }
    if (method) {
        const cJSON *p = er_json_obj(msg, "params");
        if (strcmp(method, "notifications/tools/list_changed") == 0)
            c->tools_changed = true;
        else if (strcmp(method, "notifications/progress") == 0) {
            /* A long call saying how far it is: the log shows it (errand -v). */
            const cJSON *done = cJSON_GetObjectItemCaseSensitive(p, "progress");
            const cJSON *total = cJSON_GetObjectItemCaseSensitive(p, "total");
            const char *what = er_json_str(p, "message");
            if (cJSON_IsNumber(done))
                er_log(ER_LOG_INFO, "mcp", "%s: progress %g%s%.0g%s%.200s", c->cfg->name,
                       done->valuedouble, cJSON_IsNumber(total) ? "/" : "",
                       cJSON_IsNumber(total) ? total->valuedouble : 0.0, what ? " " : "",
                       what ? what : "");
        } else
            er_log(ER_LOG_DEBUG, "mcp", "%s: %s", c->cfg->name, method);
        return 0;
    }
    if (!cJSON_IsNumber(id) || (long)id->valuedouble != want)
        return 0; /* an answer to a request given up on */
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(msg, "result");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(msg, "error");
    *result = res ? cJSON_Duplicate(res, true) : NULL;
    *rpc_error = e ? cJSON_Duplicate(e, true) : NULL;
    if (!*result && !*rpc_error)
        *rpc_error = cJSON_CreateObject();
    return 1;
}

/* ---- stdio ---- */

/* Words of s; "…" quotes one with spaces. */
static void split_words(er_strv *v, const char *s)
{
    while (s && *s) {
        s += strspn(s, " \t");
        if (!*s)
            break;
        if (*s == '"') {
            const char *end = strchr(s + 1, '"');
            size_t n = end ? (size_t)(end - s - 1) : strlen(s + 1);
            char *w = er_xstrndup(s + 1, n);
            er_strv_push(v, w);
            free(w);
            s += n + 1 + (end != NULL);
        } else {
            size_t n = strcspn(s, " \t");
            char *w = er_xstrndup(s, n);
            er_strv_push(v, w);
            free(w);
            s += n;
        }
    }
}

static int stdio_start(er_mcp_conn *c, er_error *err)
{
    er_strv argv = ER_STRV_INIT, envp = ER_STRV_INIT;
    split_words(&argv, c->cfg->command);
    split_words(&argv, c->cfg->args);
    if (!argv.n)
        return er_error_set(err, ER_EINVAL, "MCP server '%s': empty command", c->cfg->name);
    for (char **e = environ; e && *e; e++)
        er_strv_push(&envp, *e);
    split_words(&envp, c->cfg->env);
    char *state = er_xdg_dir("state", true, NULL);
    char *log = state ? er_xasprintf("%s/mcp-%s.log", state, c->cfg->name) : NULL;
    free(state);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        er_strv_free(&argv);
        er_strv_free(&envp);
        free(log);
        return er_error_set(err, ER_EIO, "socketpair: %s", strerror(errno));
    }
    int logfd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        if (logfd >= 0)
            dup2(logfd, 2);
        execvpe(argv.v[0], argv.v, envp.v);
        _exit(127);
    }
    int fork_errno = errno;
    close(sv[1]);
    if (logfd >= 0)
        close(logfd);
    free(log);
    int rc = 0;
    if (pid < 0) {
        close(sv[0]);
        rc = er_error_set(err, ER_EIO, "cannot start MCP server '%s': %s", c->cfg->name,
                          strerror(fork_errno));
    } else {
        c->pid = pid;
        c->fd = sv[0];
        er_buf_reset(&c->in);
    }
    er_strv_free(&argv);
    er_strv_free(&envp);
    return rc;
}

static void stdio_stop(er_mcp_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->pid > 0) {
        /* Closing its stdin is the polite stop; a server that ignores it is killed. */
        for (int i = 0; i < 20 && waitpid(c->pid, NULL, WNOHANG) == 0; i++)
            usleep(10000);
        if (waitpid(c->pid, NULL, WNOHANG) == 0) {
            kill(c->pid, SIGTERM);
            waitpid(c->pid, NULL, 0);
        }
    }
    c->pid = 0;
}

static int stdio_write(er_mcp_conn *c, const char *text, er_error *err)
{
    size_t len = strlen(text);
    char *line = er_xasprintf("%s\n", text);
    size_t off = 0;
    int rc = 0;
    while (off <= len) {
        ssize_t n = send(c->fd, line + off, len + 1 - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = er_error_set(err, ER_EUNAVAIL, "MCP server '%s' exited (%s)", c->cfg->name,
                              strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    free(line);
    return rc;
}

/* The next line from the server, parsed (*msg NULL for a line that is not
 * JSON: logged and skipped). */
static int stdio_read(er_mcp_conn *c, cJSON **msg, int64_t deadline, const volatile int *cancel,
                      er_error *err)
{
    for (;;) {
        char *nl = c->in.len ? memchr(c->in.ptr, '\n', c->in.len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - c->in.ptr);
            *msg = cJSON_ParseWithLength(c->in.ptr, n);
            if (!*msg && n)
                er_log(ER_LOG_WARN, "mcp", "%s: a line that is not JSON-RPC skipped", c->cfg->name);
            er_buf_consume(&c->in, n + 1);
            return 0;
        }
        if (cancel && *cancel)
            return er_error_set(err, ER_ECANCELLED, "cancelled");
        int64_t left = deadline - er_mono_ms();
        if (left <= 0)
            return er_error_set(err, ER_ETIMEDOUT,
                                "MCP server '%s' did not answer within "
                                "%ld s (mcp.%s.timeout)",
                                c->cfg->name, c->cfg->timeout, c->cfg->name);
        struct pollfd p = { c->fd, POLLIN, 0 };
        int pr = poll(&p, 1, left > 200 ? 200 : (int)left);
        if (pr <= 0)
            continue;
        char chunk[65536];
        ssize_t n = read(c->fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return er_error_set(err, ER_EUNAVAIL, "MCP server '%s' exited", c->cfg->name);
        if (er_buf_append(&c->in, chunk, (size_t)n))
            return er_error_set(err, ER_ETOOBIG,
                                "MCP server '%s' sent a message over %d "
                                "bytes",
                                c->cfg->name, MSG_MAX);
    }
}

static int stdio_exchange(er_mcp_conn *c, const char *text, long want, cJSON **result,
                          cJSON **rpc_error, int64_t deadline, const volatile int *cancel,
                          er_error *err)
{
    int rc = stdio_write(c, text, err);
    while (rc == 0 && want >= 0) {
        cJSON *msg = NULL;
        rc = stdio_read(c, &msg, deadline, cancel, err);
        if (rc == 0 && msg) {
            int got = on_message(c, msg, want, result, rpc_error);
            cJSON_Delete(msg);
            if (got)
                break;
        }
    }
    return rc;
}

/* ---- Streamable HTTP ---- */

typedef struct http_ctx {
    er_mcp_conn *c;
    long want;
    cJSON **result, **rpc_error;
    bool got;
} http_ctx;

static int http_one(http_ctx *h, const char *data, size_t len)
{
    cJSON *msg = cJSON_ParseWithLength(data, len);
    if (!msg)
        return 0;
    if (cJSON_IsArray(msg)) {
        const cJSON *m;
        cJSON_ArrayForEach(m, msg)
        {
            if (!h->got)
                h->got = on_message(h->c, m, h->want, h->result, h->rpc_error) == 1;
        }
    } else if (!h->got) {
        h->got = on_message(h->c, msg, h->want, h->result, h->rpc_error) == 1;
    }
    cJSON_Delete(msg);
    return 0;
}

static int on_sse_event(const char *event, const char *data, size_t len, er_error *err,
                        void *payload)
{
    (void)event;
    (void)err;
    return http_one(payload, data, len);
}

static void push_lines(er_strv *v, const char *lines)
{
    for (const char *p = lines; p && *p;) {
        size_t n = strcspn(p, "\n");
        char *line = er_xstrndup(p, n);
        er_strv_push(v, line);
        free(line);
        p += n + (p[n] == '\n');
    }
}

static char **http_headers(er_mcp_conn *c, const char *method, er_strv *v)
{
    er_strv_push(v, "Content-Type: application/json");
    er_strv_push(v, "Accept: application/json, text/event-stream");
    char *h = er_xasprintf("MCP-Protocol-Version: %s", c->modern ? ER_MCP_VERSION : c->version);
    er_strv_push(v, h);
    free(h);
    if (c->modern && method) {
        h = er_xasprintf("Mcp-Method: %s", method);
        er_strv_push(v, h);
        free(h);
    }
    if (c->session) {
        h = er_xasprintf("Mcp-Session-Id: %s", c->session);
        er_strv_push(v, h);
        free(h);
    }
    if (c->token) {
        h = er_xasprintf("Authorization: Bearer %s", c->token);
        er_strv_push(v, h);
        free(h);
    }
    push_lines(v, c->cfg->headers);
    return v->v;
}

static int http_status_error(er_mcp_conn *c, long status, const char *authenticate, er_error *err)
{
    /* The challenge says what the server wants (its realm, scope, and where its
     * OAuth metadata is): shown so the user knows where to get a token. */
    if (status == 401 && !c->token)
        return er_error_set(err, ER_EAUTH,
                            "MCP server '%s' needs authorisation (HTTP 401%s%.300s): run `errand "
                            "mcp login %s`, or set mcp.%s.token, token_file or token_env",
                            c->cfg->name, authenticate ? "; it asks: " : "",
                            authenticate ? authenticate : "", c->cfg->name, c->cfg->name);
    if (status == 401 && c->login)
        return er_error_set(err, ER_EAUTH,
                            "MCP server '%s' refused the login's token even after a refresh "
                            "(HTTP 401%s%.300s): run `errand mcp login %s` again",
                            c->cfg->name, authenticate ? "; it says: " : "",
                            authenticate ? authenticate : "", c->cfg->name);
    if (status == 401)
        return er_error_set(err, ER_EAUTH,
                            "MCP server '%s' refused the credentials (HTTP 401%s%.300s): the token "
                            "may have expired; renew mcp.%s.token, token_file or token_env",
                            c->cfg->name, authenticate ? "; it says: " : "",
                            authenticate ? authenticate : "", c->cfg->name);
    if (status == 403)
        return er_error_set(err, ER_EAUTH,
                            "MCP server '%s' refused the credentials (HTTP 403): the token "
                            "lacks the rights (mcp.%s.token)",
                            c->cfg->name, c->cfg->name);
    if (status == 429 || status >= 500)
        return er_error_set(err, ER_EUNAVAIL, "MCP server '%s' answered HTTP %ld", c->cfg->name,
                            status);
    return er_error_set(err, ER_EPROTO, "MCP server '%s' answered HTTP %ld", c->cfg->name, status);
}

/* The login's access token, refreshed when due (or now, when force). */
static int login_token(er_mcp_conn *c, bool force, er_error *err)
{
    char *tok = NULL;
    int rc = er_mcp_auth_token(&tok, c->cfg, c->guard, c->st, force, err);
    if (rc == ER_ENOTFOUND)
        rc = er_error_set(err, ER_EAUTH,
                          "MCP server '%s': the login is gone (errand mcp logout?): run `errand "
                          "mcp login %s`",
                          c->cfg->name, c->cfg->name);
    if (rc)
        return rc;
    er_oauth_wipe_free(c->token);
    c->token = tok;
    return 0;
}

static int http_once(er_mcp_conn *c, const char *text, const char *method, long want,
                     cJSON **result, cJSON **rpc_error, long *status, int64_t deadline,
                     const volatile int *cancel, bool last, er_error *err)
{
    er_strv hv = ER_STRV_INIT;
    er_http_req req = { .method = "POST",
                        .url = c->cfg->url,
                        .headers = (const char *const *)http_headers(c, method, &hv),
                        .body = text,
                        .body_len = strlen(text),
                        .timeout_ms = timeout_ms(c),
                        .max_body = MSG_MAX,
                        .cancel = cancel,
                        .deadline_ms = deadline,
                        .configured_endpoint = c->cfg->operator_endpoint,
                        .guard = c->guard,
                        .want_header = "Mcp-Session-Id" };
    er_http_resp resp;
    int rc = er_http_request(&resp, &req, err);
    er_strv_free(&hv);
    if (rc) {
        er_error_prefix(err, "MCP server '%s'", c->cfg->name);
        er_http_resp_release(&resp);
        return rc;
    }
    *status = resp.status;
    if (resp.header && !c->modern) {
        free(c->session);
        c->session = er_xstrdup(resp.header);
    }
    http_ctx h = { c, want, result, rpc_error, false };
    if (resp.status == 401 && c->login && !last) {
        rc = RETRY_REFRESHED; /* refresh and try once more */
    } else if (resp.status < 200 || resp.status >= 300) {
        rc = http_status_error(c, resp.status, resp.authenticate, err);
    } else if (want >= 0) {
        const char *b = er_buf_cstr(&resp.body);
        b += strspn(b, " \t\r\n");
        if (*b == '{' || *b == '[') {
            http_one(&h, b, strlen(b));
        } else {
            er_sse sse;
            er_sse_init(&sse, MSG_MAX, on_sse_event, &h);
            rc = er_sse_feed(&sse, resp.body.ptr, resp.body.len, err);
            er_sse_release(&sse);
        }
        if (!rc && !h.got)
            rc = er_error_set(err, ER_EPROTO,
                              "MCP server '%s' answered without the response "
                              "to %s",
                              c->cfg->name, method ? method : "the request");
    }
    er_http_resp_release(&resp);
    return rc;
}

/* With a login, the token is refreshed when due before the request, and
 * once more when the server answers 401 (revoked early, or its clock). */
static int http_exchange(er_mcp_conn *c, const char *text, const char *method, long want,
                         cJSON **result, cJSON **rpc_error, long *status, int64_t deadline,
                         const volatile int *cancel, er_error *err)
{
    int rc = c->login ? login_token(c, false, err) : 0;
    if (!rc)
        rc = http_once(c, text, method, want, result, rpc_error, status, deadline, cancel,
                       !c->login, err);
    if (rc == RETRY_REFRESHED) {
        er_log(ER_LOG_INFO, "mcp", "MCP server '%s' refused the access token; refreshing it",
               c->cfg->name);
        rc = login_token(c, true, err);
        if (!rc)
            rc = http_once(c, text, method, want, result, rpc_error, status, deadline, cancel, true,
                           err);
    }
    return rc;
}

/* ---- requests ---- */

static int send_text(er_mcp_conn *c, const char *text, const char *method, long id, er_error *err)
{
    (void)id;
    if (!c->cfg->url)
        return c->fd >= 0 ? stdio_write(c, text, err) : ER_EUNAVAIL;
    long status = 0;
    return http_exchange(c, text, method, -1, NULL, NULL, &status, er_mono_ms() + timeout_ms(c),
                         NULL, err);
}

static void notify(er_mcp_conn *c, const char *method, cJSON *params)
{
    cJSON *m = message(c, -1, method, params);
    char *text = er_json_print(m);
    cJSON_Delete(m);
    er_error ignored = { 0 };
    send_text(c, text, method, -1, &ignored);
    free(text);
}

static int rpc_error_code(const cJSON *e)
{
    return (int)er_json_int(e, "code", 0, INT32_MIN, INT32_MAX);
}

static int request_once(er_mcp_conn *c, const char *method, cJSON *params, cJSON **out, long tmo_ms,
                        long *status, const volatile int *cancel, er_error *err)
{
    long id = ++c->next_id;
    cJSON *m = message(c, id, method, params);
    char *text = er_json_print(m);
    cJSON_Delete(m);
    cJSON *result = NULL, *rpc_error = NULL;
    int64_t deadline = er_mono_ms() + tmo_ms;
    int rc = c->cfg->url ? http_exchange(c, text, method, id, &result, &rpc_error, status, deadline,
                                         cancel, err)
                         : stdio_exchange(c, text, id, &result, &rpc_error, deadline, cancel, err);
    free(text);
    if (rc == ER_ECANCELLED || rc == ER_ETIMEDOUT) {
        cJSON *p = cJSON_CreateObject();
        er_json_add_num(p, "requestId", (double)id);
        er_json_add_str(p, "reason", rc == ER_ECANCELLED ? "cancelled by the user" : "timed out");
        notify(c, "notifications/cancelled", p);
    }
    if (rc == 0 && rpc_error) {
        const char *msg = er_json_str(rpc_error, "message");
        rc = er_error_set(err, ER_EPROTO, "MCP server '%s': %s failed: %s (%d)", c->cfg->name,
                          method, msg ? msg : "error", rpc_error_code(rpc_error));
        *status = rpc_error_code(rpc_error);
    }
    cJSON_Delete(rpc_error);
    if (rc == 0)
        *out = result;
    else
        cJSON_Delete(result);
    return rc;
}

static int negotiate(er_mcp_conn *c, er_error *err);

int er_mcp_conn_request(er_mcp_conn *c, const char *method, cJSON *params, cJSON **out,
                        const volatile int *cancel, er_error *err)
{
    *out = NULL;
    long status = 0;
    if (!c->cfg->url && c->fd < 0) {
        /* It died after an earlier request: started again once, then reported. */
        if (c->restarts >= 1) {
            cJSON_Delete(params);
            return er_error_set(err, ER_EUNAVAIL,
                                "MCP server '%s' exited again after a "
                                "restart; see its log (mcp-%s.log in errand's state "
                                "directory)",
                                c->cfg->name, c->cfg->name);
        }
        c->restarts++;
        er_log(ER_LOG_WARN, "mcp", "MCP server '%s' exited; starting it again", c->cfg->name);
        int rc = stdio_start(c, err);
        if (rc == 0)
            rc = negotiate(c, err);
        if (rc) {
            cJSON_Delete(params);
            return rc;
        }
    }
    int rc = request_once(c, method, params, out, timeout_ms(c), &status, cancel, err);
    if (rc == ER_EUNAVAIL && !c->cfg->url)
        stdio_stop(c);
    return rc;
}

/* ---- opening ---- */

static bool lists_version(const cJSON *versions, const char *v)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, versions)
    {
        if (cJSON_IsString(x) && strcmp(x->valuestring, v) == 0)
            return true;
    }
    return false;
}

static void keep_caps(er_mcp_conn *c, const cJSON *res)
{
    const cJSON *caps = er_json_obj(res, "capabilities");
    cJSON_Delete(c->caps);
    c->caps = caps ? cJSON_Duplicate(caps, true) : cJSON_CreateObject();
}

static int negotiate(er_mcp_conn *c, er_error *err)
{
    c->modern = true;
    cJSON *res = NULL;
    long status = 0;
    long tmo = timeout_ms(c) < DISCOVER_TIMEOUT_MS ? timeout_ms(c) : DISCOVER_TIMEOUT_MS;
    er_error derr = { 0 };
    int rc = request_once(c, "server/discover", NULL, &res, tmo, &status, NULL, &derr);
    if (rc == 0 && lists_version(er_json_arr(res, "supportedVersions"), ER_MCP_VERSION)) {
        er_strlcpy(c->version, ER_MCP_VERSION, sizeof c->version);
        keep_caps(c, res);
        cJSON_Delete(res);
        return 0;
    }
    cJSON_Delete(res);
    if (rc && rc != ER_EPROTO && rc != ER_ETIMEDOUT) {
        *err = derr;
        return rc;
    }
    /* A legacy server: the handshake of the revisions before the stateless one. */
    c->modern = false;
    er_strlcpy(c->version, ER_MCP_LEGACY_VERSION, sizeof c->version);
    cJSON *p = cJSON_CreateObject();
    er_json_add_str(p, "protocolVersion", ER_MCP_LEGACY_VERSION);
    er_json_add(p, "capabilities", cJSON_CreateObject());
    er_json_add(p, "clientInfo", client_info());
    rc = request_once(c, "initialize", p, &res, timeout_ms(c), &status, NULL, err);
    if (rc)
        return rc;
    const char *v = er_json_str(res, "protocolVersion");
    if (v && strlen(v) < sizeof c->version)
        er_strlcpy(c->version, v, sizeof c->version);
    keep_caps(c, res);
    cJSON_Delete(res);
    notify(c, "notifications/initialized", NULL);
    return 0;
}

/* A configured token, else the login's, else none. */
static int http_token(er_mcp_conn *c, er_error *err)
{
    const er_mcp_server_cfg *cfg = c->cfg;
    if (cfg->token || cfg->token_file || cfg->token_env || !c->st)
        return er_mcp_config_token(cfg, &c->token, err);
    int rc = er_mcp_auth_token(&c->token, cfg, c->guard, c->st, false, err);
    if (rc == ER_ENOTFOUND) {
        er_error_clear(err);
        return 0;
    }
    c->login = rc == 0;
    return rc;
}

int er_mcp_conn_open(er_mcp_conn **out, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                     er_store *st, er_error *err)
{
    *out = NULL;
    int rc = er_mcp_config_check(cfg, err);
    if (rc)
        return rc;
    er_mcp_conn *c = er_xcalloc(1, sizeof *c);
    c->cfg = cfg;
    c->guard = guard;
    c->st = st;
    c->fd = -1;
    er_buf_init(&c->in, MSG_MAX);
    if (cfg->url)
        rc = http_token(c, err);
    else
        rc = stdio_start(c, err);
    if (rc == 0)
        rc = negotiate(c, err);
    if (rc) {
        er_mcp_conn_close(c);
        return rc;
    }
    er_log(ER_LOG_INFO, "mcp", "connected to MCP server '%s' (revision %s)", cfg->name, c->version);
    *out = c;
    return 0;
}

void er_mcp_conn_close(er_mcp_conn *c)
{
    if (!c)
        return;
    if (c->cfg->url && c->session) {
        er_strv hv = ER_STRV_INIT;
        er_http_req req = { .method = "DELETE",
                            .url = c->cfg->url,
                            .headers = (const char *const *)http_headers(c, NULL, &hv),
                            .timeout_ms = 2000,
                            .configured_endpoint = c->cfg->operator_endpoint,
                            .guard = c->guard };
        er_http_resp resp;
        er_error ignored = { 0 };
        er_http_request(&resp, &req, &ignored);
        er_http_resp_release(&resp);
        er_strv_free(&hv);
    }
    stdio_stop(c);
    er_buf_release(&c->in);
    free(c->session);
    er_oauth_wipe_free(c->token);
    cJSON_Delete(c->caps);
    free(c);
}

const char *er_mcp_conn_version(const er_mcp_conn *c)
{
    return c->version;
}

bool er_mcp_conn_tools_changed(const er_mcp_conn *c)
{
    return c->tools_changed;
}

bool er_mcp_conn_offers(const er_mcp_conn *c, const char *capability)
{
    return cJSON_IsObject(er_json_obj(c->caps, capability));
}

int er_mcp_conn_list(er_mcp_conn *c, const char *method, const char *key, cJSON **out,
                     er_error *err)
{
    *out = NULL;
    cJSON *all = cJSON_CreateArray();
    char *cursor = NULL;
    int rc = 0;
    int page = 0;
    for (; page < LIST_PAGES_MAX; page++) {
        cJSON *p = NULL;
        if (cursor) {
            p = cJSON_CreateObject();
            er_json_add_str(p, "cursor", cursor);
        }
        cJSON *res = NULL;
        rc = er_mcp_conn_request(c, method, p, &res, NULL, err);
        free(cursor);
        cursor = NULL;
        if (rc)
            break;
        const cJSON *t;
        cJSON_ArrayForEach(t, er_json_arr(res, key))
        {
            if (cJSON_IsObject(t))
                er_json_append(all, cJSON_Duplicate(t, true));
        }
        const char *next = er_json_str(res, "nextCursor");
        cursor = er_str_empty(next) ? NULL : er_xstrdup(next);
        cJSON_Delete(res);
        if (!cursor)
            break;
    }
    if (!rc && cursor)
        er_log(ER_LOG_WARN, "mcp", "%s: %s has over %d pages; the rest left out", c->cfg->name,
               method, LIST_PAGES_MAX);
    free(cursor);
    if (rc) {
        cJSON_Delete(all);
        return rc;
    }
    *out = all;
    return 0;
}

int er_mcp_conn_tools(er_mcp_conn *c, cJSON **out, er_error *err)
{
    c->tools_changed = false;
    cJSON *all = NULL;
    int rc = er_mcp_conn_list(c, "tools/list", "tools", &all, err);
    if (rc)
        return rc;
    /* A tool without a name cannot be called: left out. */
    for (int i = cJSON_GetArraySize(all) - 1; i >= 0; i--)
        if (!er_json_str(cJSON_GetArrayItem(all, i), "name"))
            cJSON_DeleteItemFromArray(all, i);
    *out = all;
    return 0;
}

static void content_text(er_buf *b, const cJSON *content)
{
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const char *type = er_json_str(part, "type");
        if (b->len)
            er_buf_putc(b, '\n');
        if (er_str_eq(type, "text") && er_json_str(part, "text"))
            er_buf_puts(b, er_json_str(part, "text"));
        else if (er_str_eq(type, "resource") && er_json_str(er_json_obj(part, "resource"), "text"))
            er_buf_puts(b, er_json_str(er_json_obj(part, "resource"), "text"));
        else if (er_str_eq(type, "resource_link"))
            er_buf_printf(b, "[resource link: %s]",
                          er_json_str(part, "uri") ? er_json_str(part, "uri") : "?");
        else
            er_buf_printf(b, "[%s content (%s) not shown]", type ? type : "unknown",
                          er_json_str(part, "mimeType") ? er_json_str(part, "mimeType") : "?");
    }
}

int er_mcp_conn_call(er_mcp_conn *c, const char *tool, const cJSON *args, char **text,
                     bool *is_error, const volatile int *cancel, er_error *err)
{
    *text = NULL;
    cJSON *p = cJSON_CreateObject();
    er_json_add_str(p, "name", tool);
    er_json_add(p, "arguments", args ? cJSON_Duplicate(args, true) : cJSON_CreateObject());
    /* Asks for progress notifications, which the log shows. */
    cJSON *meta = cJSON_CreateObject();
    er_json_add_num(meta, "progressToken", (double)(c->next_id + 1));
    er_json_add(p, "_meta", meta);
    cJSON *res = NULL;
    int rc = er_mcp_conn_request(c, "tools/call", p, &res, cancel, err);
    if (rc)
        return rc;
    if (er_str_eq(er_json_str(res, "resultType"), "input_required")) {
        cJSON_Delete(res);
        return er_error_set(err, ER_EPROTO,
                            "MCP server '%s': %s asks for more input, which "
                            "errand does not provide",
                            c->cfg->name, tool);
    }
    er_buf b;
    er_buf_init(&b, MSG_MAX);
    content_text(&b, er_json_arr(res, "content"));
    const cJSON *structured = cJSON_GetObjectItemCaseSensitive(res, "structuredContent");
    if (!b.len && structured) {
        char *s = er_json_print(structured);
        er_buf_puts(&b, s);
        free(s);
    }
    *is_error = er_json_bool(res, "isError", false);
    cJSON_Delete(res);
    *text = er_buf_detach(&b);
    return 0;
}

int er_mcp_conn_read(er_mcp_conn *c, const char *uri, char **text, char **mime,
                     const volatile int *cancel, er_error *err)
{
    *text = NULL;
    if (mime)
        *mime = NULL;
    cJSON *p = cJSON_CreateObject();
    er_json_add_str(p, "uri", uri);
    cJSON *res = NULL;
    int rc = er_mcp_conn_request(c, "resources/read", p, &res, cancel, err);
    if (rc)
        return rc;
    er_buf b;
    er_buf_init(&b, MSG_MAX);
    const cJSON *part;
    cJSON_ArrayForEach(part, er_json_arr(res, "contents"))
    {
        const char *t = er_json_str(part, "text");
        const char *type = er_json_str(part, "mimeType");
        if (mime && !*mime && type)
            *mime = er_xstrdup(type);
        if (b.len)
            er_buf_putc(&b, '\n');
        if (t)
            er_buf_puts(&b, t);
        else {
            const char *blob = er_json_str(part, "blob");
            er_buf_printf(&b, "[binary content of %s: %zu bytes base64 (%s) not shown]",
                          er_json_str(part, "uri") ? er_json_str(part, "uri") : uri,
                          blob ? strlen(blob) : 0, type ? type : "no type");
        }
    }
    cJSON_Delete(res);
    *text = er_buf_detach(&b);
    return 0;
}

int er_mcp_conn_prompt(er_mcp_conn *c, const char *name, const cJSON *args, char **text,
                       er_error *err)
{
    *text = NULL;
    cJSON *p = cJSON_CreateObject();
    er_json_add_str(p, "name", name);
    if (args)
        er_json_add(p, "arguments", cJSON_Duplicate(args, true));
    cJSON *res = NULL;
    int rc = er_mcp_conn_request(c, "prompts/get", p, &res, NULL, err);
    if (rc)
        return rc;
    er_buf b;
    er_buf_init(&b, MSG_MAX);
    const cJSON *m;
    cJSON_ArrayForEach(m, er_json_arr(res, "messages"))
    {
        const char *role = er_json_str(m, "role");
        if (b.len)
            er_buf_puts(&b, "\n\n");
        er_buf_printf(&b, "%s: ", role ? role : "?");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        cJSON *one = cJSON_CreateArray();
        if (cJSON_IsArray(content))
            cJSON_Delete(one), one = cJSON_Duplicate(content, true);
        else if (content)
            er_json_append(one, cJSON_Duplicate(content, true));
        er_buf part;
        er_buf_init(&part, MSG_MAX);
        content_text(&part, one);
        er_buf_append(&b, part.ptr ? part.ptr : "", part.len);
        er_buf_release(&part);
        cJSON_Delete(one);
    }
    cJSON_Delete(res);
    *text = er_buf_detach(&b);
    return 0;
}
