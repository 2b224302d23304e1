/* fake_gmail.c — Google's OAuth 2.0 endpoints and the Gmail API's profile,
 * labels, messages, threads and drafts, for tests, speaking their wire
 * formats:
 *
 *   GET  /o/oauth2/v2/auth   consent: checks client_id, a loopback
 *                            redirect_uri, response_type=code, PKCE S256 and
 *                            state, then redirects (302) with code and state;
 *                            login_hint=deny redirects with error=access_denied
 *   POST /token              authorization_code (one-time code, same
 *                            redirect_uri, code_verifier checked against the
 *                            challenge) and refresh_token grants; errors as
 *                            Google sends them ({"error":"invalid_grant",…})
 *   POST /revoke             token=… revokes a refresh token and its access tokens
 *   GET  /gmail/v1/users/me/profile   Bearer token checked; 401 in Google's
 *                            error shape otherwise (so for every API call)
 *   GET  …/me/labels         system labels and the --label ones (Label_N)
 *   GET  …/me/messages       labelIds, q (from: to: subject: rfc822msgid:
 *                            is:unread after: before: and words; 400 for
 *                            other operators), maxResults, pageToken →
 *                            {messages:[{id,threadId}], nextPageToken}
 *                            newest first, TRASH/SPAM left out
 *   GET  …/me/messages/ID    format=raw (base64url), metadata (with
 *                            metadataHeaders), minimal; labelIds, threadId
 *   POST …/me/messages       insert {raw, labelIds};  …/send {raw}: SENT
 *   POST …/me/messages/ID/modify {addLabelIds, removeLabelIds};  …/trash
 *   DELETE …/me/messages/ID  gone for good (204)
 *   GET  …/me/threads/ID     the thread's messages, oldest first
 *   POST …/me/drafts         {message:{raw}} → {id, message}
 *   GET  …/me/history        startHistoryId (404 when older than the kept
 *                            history), historyTypes, maxResults, pageToken →
 *                            {history:[{id, messages, messagesAdded |
 *                            messagesDeleted | labelsAdded | labelsRemoved}],
 *                            historyId, nextPageToken}: one record per change
 *                            since the start id, oldest first
 *   POST /batch/gmail/v1     multipart/mixed of application/http parts, each
 *                            a GET …/me/messages/ID; answered multipart/mixed
 *                            with one application/http response per part, in
 *                            order, Content-ID response-…; 400 past 100 parts
 * The mailbox: --mailbox DIR's *.eml by name, oldest first, in INBOX and
 * unread; a loaded message threads under the one its In-Reply-To names, an
 * added one under the threadId it comes with.
 *
 * Test controls (not Google's):
 *   POST /_fake/expire       every access token stops working (early revocation)
 *   POST /_fake/expire_after?requests=N   every access token stops working
 *                            from the Nth API request on (a token dying mid-listing)
 *   POST /_fake/revoke_all   every refresh token is revoked (invalid_grant)
 *   POST /_fake/ttl?seconds=N   access tokens issued from now live N seconds
 *   POST /_fake/throttle?count=N&status=429|403&retry_after=S   the next N API
 *                            requests are refused as over quota (429
 *                            rateLimitExceeded, 403 userRateLimitExceeded),
 *                            with Retry-After: S when given
 *   POST /_fake/expire_history   every history id issued so far is too old
 *                            (history.list answers 404 for it)
 *   GET  /_fake/stats        counters and the last tokens issued, as JSON
 *   GET  /_fake/messages     every message's id, threadId, labelIds, messageId
 *
 *   fake_gmail --client-id ID --client-secret S [--port N] [--port-file F]
 *              [--record F] [--access-ttl SECONDS] [--rotate] [--email ADDR]
 *
 * --rotate: each refresh also issues a new refresh token and retires the old
 * one.  Every request is appended to the record file as one JSON line
 * {method, path, grant_type}.  SIGTERM stops it. */
#include "fake_server.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_TOKENS 256

typedef struct grant {
    char code[64], redirect[256], challenge[128], scope[512];
    bool used, offline;
} grant;

typedef struct token {
    char value[80];
    int family; /* the refresh token (index) an access token came from */
    int64_t expires;
    bool valid;
} token;

static struct {
    const char *client_id, *client_secret, *email, *record;
    long access_ttl;
    long expire_after; /* API requests until every access token dies (0: never) */
    bool rotate;
    pthread_mutex_t lock;
    grant grants[MAX_TOKENS];
    token access[MAX_TOKENS], refresh[MAX_TOKENS];
    int ngrants, naccess, nrefresh;
    int codes_issued, exchanges, refreshes, profiles, unauthorized, revoked, invalid_grants;
    int throttle, throttle_status, throttled; /* requests still to refuse, how, how many were */
    long retry_after;                         /* seconds; < 0: no Retry-After header */
} F = { .lock = PTHREAD_MUTEX_INITIALIZER,
        .access_ttl = 3600,
        .email = "me@example.test",
        .retry_after = -1 };

static long long mailbox_history(void);

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void b64url(const void *data, size_t len, er_buf *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < len ? p[i + 2] : 0);
        er_buf_putc(out, a[v >> 18]);
        er_buf_putc(out, a[(v >> 12) & 63]);
        if (i + 1 < len)
            er_buf_putc(out, a[(v >> 6) & 63]);
        if (i + 2 < len)
            er_buf_putc(out, a[v & 63]);
    }
}

static void random_text(const char *prefix, char *out, size_t n)
{
    unsigned char raw[24];
    RAND_bytes(raw, sizeof raw);
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, prefix);
    b64url(raw, sizeof raw, &b);
    er_strlcpy(out, b.ptr, n);
    er_buf_release(&b);
}

static void record(const char *method, const char *path, const char *grant_type)
{
    if (!F.record)
        return;
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "method", method);
    er_json_add_str(j, "path", path);
    if (grant_type)
        er_json_add_str(j, "grant_type", grant_type);
    char *s = er_json_print(j);
    cJSON_Delete(j);
    FILE *f = fopen(F.record, "a");
    if (f) {
        fprintf(f, "%s\n", s);
        fclose(f);
    }
    free(s);
}

static void reply(struct mg_connection *c, int status, const char *ctype, const char *extra,
                  const char *body)
{
    mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n%s", status,
              mg_get_response_code_text(c, status), ctype, strlen(body), extra ? extra : "", body);
}

static int reply_json(struct mg_connection *c, int status, cJSON *j)
{
    char *s = er_json_print(j);
    cJSON_Delete(j);
    reply(c, status, "application/json; charset=UTF-8", NULL, s);
    free(s);
    return status;
}

static int oauth_error(struct mg_connection *c, int status, const char *error, const char *desc)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "error", error);
    if (desc)
        er_json_add_str(j, "error_description", desc);
    return reply_json(c, status, j);
}

static bool var(const char *qs, const char *name, char *buf, size_t n)
{
    return qs && mg_get_var(qs, strlen(qs), name, buf, n) > 0;
}

/* ---- consent ---- */

static void add_param(er_buf *b, const char *name, const char *value)
{
    char enc[1024];
    mg_url_encode(value, enc, sizeof enc);
    er_buf_printf(b, "%c%s=%s", strchr(b->ptr, '?') ? '&' : '?', name, enc);
}

static int authorize(struct mg_connection *c, void *cb)
{
    (void)cb;
    record("GET", "/o/oauth2/v2/auth", NULL);
    const char *qs = mg_get_request_info(c)->query_string;
    char client[256], redirect[256], type[32], challenge[128], method[16], state[256], scope[512],
        access[32], hint[64];
    if (!var(qs, "client_id", client, sizeof client) || strcmp(client, F.client_id) != 0) {
        reply(c, 401, "text/plain", NULL, "Error 401: invalid_client\n");
        return 401;
    }
    /* Loopback redirects only, as Google requires of desktop clients. */
    if (!var(qs, "redirect_uri", redirect, sizeof redirect) ||
        !er_str_starts(redirect, "http://127.0.0.1:")) {
        reply(c, 400, "text/plain", NULL, "Error 400: redirect_uri_mismatch\n");
        return 400;
    }
    if (!var(qs, "response_type", type, sizeof type) || strcmp(type, "code") != 0 ||
        !var(qs, "code_challenge", challenge, sizeof challenge) ||
        !var(qs, "code_challenge_method", method, sizeof method) || strcmp(method, "S256") != 0 ||
        !var(qs, "state", state, sizeof state) || !var(qs, "scope", scope, sizeof scope)) {
        reply(c, 400, "text/plain", NULL, "Error 400: invalid_request\n");
        return 400;
    }
    er_buf loc = ER_BUF_INIT;
    er_buf_puts(&loc, redirect);
    if (var(qs, "login_hint", hint, sizeof hint) && strcmp(hint, "deny") == 0) {
        add_param(&loc, "error", "access_denied");
    } else {
        pthread_mutex_lock(&F.lock);
        grant *g = &F.grants[F.ngrants++ % MAX_TOKENS];
        memset(g, 0, sizeof *g);
        random_text("4/0A", g->code, sizeof g->code);
        er_strlcpy(g->redirect, redirect, sizeof g->redirect);
        er_strlcpy(g->challenge, challenge, sizeof g->challenge);
        er_strlcpy(g->scope, scope, sizeof g->scope);
        g->offline =
            var(qs, "access_type", access, sizeof access) && strcmp(access, "offline") == 0;
        F.codes_issued++;
        add_param(&loc, "code", g->code);
        add_param(&loc, "scope", scope);
        pthread_mutex_unlock(&F.lock);
    }
    add_param(&loc, "state", state);
    char *extra = er_xasprintf("Location: %s\r\n", loc.ptr);
    reply(c, 302, "text/html", extra, "");
    free(extra);
    er_buf_release(&loc);
    return 302;
}

/* ---- tokens ---- */

static bool pkce_ok(const grant *g, const char *verifier)
{
    unsigned char md[32];
    SHA256((const unsigned char *)verifier, strlen(verifier), md);
    er_buf b = ER_BUF_INIT;
    b64url(md, sizeof md, &b);
    bool ok = strcmp(b.ptr, g->challenge) == 0;
    er_buf_release(&b);
    return ok;
}

/* Under the lock: a new access token of family fam into j. */
static void issue_access(cJSON *j, int fam)
{
    token *t = &F.access[F.naccess++ % MAX_TOKENS];
    random_text("ya29.", t->value, sizeof t->value);
    t->family = fam;
    t->expires = now_s() + F.access_ttl;
    t->valid = true;
    er_json_add_str(j, "access_token", t->value);
    er_json_add_num(j, "expires_in", (double)F.access_ttl);
    er_json_add_str(j, "token_type", "Bearer");
}

static int issue_refresh(cJSON *j)
{
    int fam = F.nrefresh++ % MAX_TOKENS;
    token *r = &F.refresh[fam];
    random_text("1//0g", r->value, sizeof r->value);
    r->valid = true;
    er_json_add_str(j, "refresh_token", r->value);
    return fam;
}

static int find_refresh(const char *value)
{
    for (int i = 0; i < F.nrefresh && i < MAX_TOKENS; i++)
        if (strcmp(F.refresh[i].value, value) == 0)
            return i;
    return -1;
}

static int code_grant(struct mg_connection *c, const char *body)
{
    char code[128], redirect[256], verifier[256];
    if (!var(body, "code", code, sizeof code) ||
        !var(body, "redirect_uri", redirect, sizeof redirect) ||
        !var(body, "code_verifier", verifier, sizeof verifier))
        return oauth_error(c, 400, "invalid_request", "Missing required parameter");
    pthread_mutex_lock(&F.lock);
    grant *g = NULL;
    for (int i = 0; i < F.ngrants && i < MAX_TOKENS; i++)
        if (strcmp(F.grants[i].code, code) == 0)
            g = &F.grants[i];
    bool ok = g && !g->used && strcmp(g->redirect, redirect) == 0 && pkce_ok(g, verifier);
    if (g)
        g->used = true; /* one try per code, right or wrong */
    cJSON *j = NULL;
    if (ok) {
        j = cJSON_CreateObject();
        int fam = g->offline ? issue_refresh(j) : -1;
        issue_access(j, fam);
        er_json_add_str(j, "scope", g->scope);
        F.exchanges++;
    } else {
        F.invalid_grants++;
    }
    pthread_mutex_unlock(&F.lock);
    if (!ok)
        return oauth_error(c, 400, "invalid_grant", "Bad Request");
    return reply_json(c, 200, j);
}

static int refresh_grant(struct mg_connection *c, const char *body)
{
    char value[128];
    if (!var(body, "refresh_token", value, sizeof value))
        return oauth_error(c, 400, "invalid_request", "Missing required parameter: refresh_token");
    pthread_mutex_lock(&F.lock);
    int fam = find_refresh(value);
    cJSON *j = NULL;
    if (fam >= 0 && F.refresh[fam].valid) {
        j = cJSON_CreateObject();
        if (F.rotate) {
            F.refresh[fam].valid = false;
            fam = issue_refresh(j);
        }
        issue_access(j, fam);
        er_json_add_str(j, "scope", "https://www.googleapis.com/auth/gmail.readonly");
        F.refreshes++;
    } else {
        F.invalid_grants++;
    }
    pthread_mutex_unlock(&F.lock);
    if (!j)
        return oauth_error(c, 400, "invalid_grant", "Token has been expired or revoked.");
    return reply_json(c, 200, j);
}

static bool client_ok(const char *body)
{
    char id[256], secret[256];
    return var(body, "client_id", id, sizeof id) && strcmp(id, F.client_id) == 0 &&
           var(body, "client_secret", secret, sizeof secret) &&
           strcmp(secret, F.client_secret) == 0;
}

static int token_endpoint(struct mg_connection *c, void *cb)
{
    (void)cb;
    char body[8192], type[64];
    int n = mg_read(c, body, sizeof body - 1);
    body[n > 0 ? n : 0] = '\0';
    bool typed = var(body, "grant_type", type, sizeof type);
    record("POST", "/token", typed ? type : NULL);
    if (strcmp(mg_get_request_info(c)->request_method, "POST") != 0)
        return oauth_error(c, 405, "invalid_request", "POST only");
    if (!client_ok(body))
        return oauth_error(c, 401, "invalid_client", "Unauthorized");
    if (typed && strcmp(type, "authorization_code") == 0)
        return code_grant(c, body);
    if (typed && strcmp(type, "refresh_token") == 0)
        return refresh_grant(c, body);
    return oauth_error(c, 400, "unsupported_grant_type", "Invalid grant_type");
}

static int revoke_endpoint(struct mg_connection *c, void *cb)
{
    (void)cb;
    record("POST", "/revoke", NULL);
    char body[4096], value[128];
    int n = mg_read(c, body, sizeof body - 1);
    body[n > 0 ? n : 0] = '\0';
    if (!var(body, "token", value, sizeof value))
        return oauth_error(c, 400, "invalid_request", "Missing required parameter: token");
    pthread_mutex_lock(&F.lock);
    int fam = find_refresh(value);
    bool ok = fam >= 0 && F.refresh[fam].valid;
    if (ok) {
        F.refresh[fam].valid = false;
        for (int i = 0; i < F.naccess && i < MAX_TOKENS; i++)
            if (F.access[i].family == fam)
                F.access[i].valid = false;
        F.revoked++;
    }
    pthread_mutex_unlock(&F.lock);
    if (!ok)
        return oauth_error(c, 400, "invalid_token", "Token expired or revoked");
    reply(c, 200, "application/json", NULL, "{}");
    return 200;
}

/* ---- the API ---- */

static bool bearer_ok(struct mg_connection *c)
{
    const char *h = mg_get_header(c, "Authorization");
    if (!h || !er_str_starts(h, "Bearer "))
        return false;
    bool ok = false;
    pthread_mutex_lock(&F.lock);
    if (F.expire_after > 0 && --F.expire_after == 0)
        for (int i = 0; i < F.naccess && i < MAX_TOKENS; i++)
            F.access[i].valid = false;
    for (int i = 0; i < F.naccess && i < MAX_TOKENS && !ok; i++)
        ok = strcmp(F.access[i].value, h + 7) == 0 && F.access[i].valid &&
             F.access[i].expires > now_s();
    if (!ok)
        F.unauthorized++;
    pthread_mutex_unlock(&F.lock);
    return ok;
}

static int unauthenticated(struct mg_connection *c)
{
    cJSON *j = cJSON_CreateObject(), *e = cJSON_CreateObject();
    er_json_add_num(e, "code", 401);
    er_json_add_str(e, "message",
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.");
    er_json_add_str(e, "status", "UNAUTHENTICATED");
    er_json_add(j, "error", e);
    char *s = er_json_print(j);
    cJSON_Delete(j);
    reply(
        c, 401, "application/json; charset=UTF-8",
        "WWW-Authenticate: Bearer realm=\"https://accounts.google.com/\", error=invalid_token\r\n",
        s);
    free(s);
    return 401;
}

/* Over quota, as Google answers it: 429 rateLimitExceeded or 403
 * userRateLimitExceeded, in its error shape. */
static int throttled(struct mg_connection *c)
{
    pthread_mutex_lock(&F.lock);
    bool refuse = F.throttle > 0;
    int status = F.throttle_status == 403 ? 403 : 429;
    long after = F.retry_after;
    if (refuse) {
        F.throttle--;
        F.throttled++;
    }
    pthread_mutex_unlock(&F.lock);
    if (!refuse)
        return 0;
    const char *reason = status == 403 ? "userRateLimitExceeded" : "rateLimitExceeded";
    cJSON *j = cJSON_CreateObject(), *e = cJSON_CreateObject(), *errs = cJSON_CreateArray(),
          *one = cJSON_CreateObject();
    er_json_add_num(e, "code", status);
    er_json_add_str(e, "message",
                    status == 403 ? "User-rate limit exceeded" : "Rate Limit Exceeded");
    er_json_add_str(one, "domain", "usageLimits");
    er_json_add_str(one, "reason", reason);
    cJSON_AddItemToArray(errs, one);
    er_json_add(e, "errors", errs);
    er_json_add_str(e, "status", "RESOURCE_EXHAUSTED");
    er_json_add(j, "error", e);
    char *s = er_json_print(j), extra[64] = "";
    cJSON_Delete(j);
    if (after >= 0)
        snprintf(extra, sizeof extra, "Retry-After: %ld\r\n", after);
    reply(c, status, "application/json; charset=UTF-8", extra, s);
    free(s);
    return status;
}

/* Every API request: quota first (Google refuses before it looks at the
 * token), then the token. */
static int gate(struct mg_connection *c)
{
    int rc = throttled(c);
    if (!rc && !bearer_ok(c))
        rc = unauthenticated(c);
    return rc;
}

static int profile(struct mg_connection *c, void *cb)
{
    (void)cb;
    record("GET", "/gmail/v1/users/me/profile", NULL);
    int gated = gate(c);
    if (gated)
        return gated;
    pthread_mutex_lock(&F.lock);
    F.profiles++;
    pthread_mutex_unlock(&F.lock);
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "emailAddress", F.email);
    er_json_add_num(j, "messagesTotal", 0);
    er_json_add_num(j, "threadsTotal", 0);
    char hist[24];
    pthread_mutex_lock(&F.lock);
    snprintf(hist, sizeof hist, "%lld", mailbox_history());
    pthread_mutex_unlock(&F.lock);
    er_json_add_str(j, "historyId", hist);
    return reply_json(c, 200, j);
}

/* ---- the mailbox: labels, messages, threads, drafts ---- */

#define MAX_MSGS   512
#define MAX_LABELS 32

typedef struct msg {
    char id[24], thread[24], mid[256];
    char labels[MAX_LABELS][32];
    int nlabels;
    char *raw;
    size_t len;
    int64_t internal; /* ms since the epoch: the order of the mailbox */
    bool gone;        /* deleted for good (messages.delete) */
} msg;

static struct {
    msg m[MAX_MSGS];
    int n, ndrafts, inserted, sent, modified, trashed, lists, gets;
    char user_labels[MAX_LABELS][64];
    int nuser;
    long page; /* messages.list's largest page (Google's cap is 500) */
    int histories, batches, deleted;
} B = { .page = 500 };

/* The mailbox's history: one record per change, ids growing from 1000. */
#define MAX_HISTORY 8192
enum { H_ADDED, H_DELETED, H_LABEL_ADDED, H_LABEL_REMOVED };
static const char *const history_types[] = { "messagesAdded", "messagesDeleted", "labelsAdded",
                                             "labelsRemoved" };
static struct {
    struct {
        long long id;
        int type, msg;
        char label[32];
    } r[MAX_HISTORY];
    int n;
    long long last, floor; /* the newest id; ids below floor are expired */
} H = { .last = 1000 };

static long long mailbox_history(void)
{
    return H.last;
}

static void history_add(int type, int msg_index, const char *label)
{
    H.last++;
    if (H.n == MAX_HISTORY) { /* the oldest go, and with them the ids before them */
        memmove(&H.r[0], &H.r[1], sizeof H.r[0] * (MAX_HISTORY - 1));
        H.n--;
        H.floor = H.r[0].id - 1;
    }
    H.r[H.n].id = H.last;
    H.r[H.n].type = type;
    H.r[H.n].msg = msg_index;
    er_strlcpy(H.r[H.n].label, label ? label : "", sizeof H.r[0].label);
    H.n++;
}

static const char *const system_labels[] = { "INBOX",  "SENT",    "DRAFT",     "TRASH", "SPAM",
                                             "UNREAD", "STARRED", "IMPORTANT", NULL };

/* A header's unfolded value, "" when absent. */
static void header_of(const char *raw, size_t len, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    const char *p = raw, *end = raw + len;
    while (p < end && *p != '\r' && *p != '\n') {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            size_t o = 0;
            const char *v = p + nl + 1;
            for (;;) {
                for (; v < eol && o + 1 < n; v++)
                    if (*v != '\r' && !(o == 0 && (*v == ' ' || *v == '\t')))
                        out[o++] = *v;
                if (eol + 1 < end && (eol[1] == ' ' || eol[1] == '\t')) {
                    v = eol + 1;
                    eol = memchr(v, '\n', (size_t)(end - v));
                    if (!eol)
                        eol = end;
                } else {
                    break;
                }
            }
            out[o] = '\0';
            return;
        }
        p = eol + 1;
    }
}

static bool msg_has(const msg *m, const char *label)
{
    for (int i = 0; i < m->nlabels; i++)
        if (strcmp(m->labels[i], label) == 0)
            return true;
    return false;
}

static void msg_label(msg *m, const char *label, bool add)
{
    for (int i = 0; i < m->nlabels; i++)
        if (strcmp(m->labels[i], label) == 0) {
            if (!add) {
                memmove(m->labels[i], m->labels[i + 1],
                        sizeof m->labels[0] * (size_t)(m->nlabels-- - i - 1));
                history_add(H_LABEL_REMOVED, (int)(m - B.m), label);
            }
            return;
        }
    if (add && m->nlabels < MAX_LABELS) {
        er_strlcpy(m->labels[m->nlabels++], label, sizeof m->labels[0]);
        history_add(H_LABEL_ADDED, (int)(m - B.m), label);
    }
}

static bool label_known(const char *id)
{
    for (int i = 0; system_labels[i]; i++)
        if (strcmp(system_labels[i], id) == 0)
            return true;
    for (int i = 0; i < B.nuser; i++) {
        char lid[32];
        snprintf(lid, sizeof lid, "Label_%d", i + 1);
        if (strcmp(lid, id) == 0)
            return true;
    }
    return false;
}

/* Adds a message (lock held); by_headers: threaded under the message its
 * In-Reply-To names, as mail arriving is. */
static msg *box_add(const char *raw, size_t len, bool by_headers)
{
    if (B.n >= MAX_MSGS)
        return NULL;
    msg *m = &B.m[B.n];
    memset(m, 0, sizeof *m);
    m->internal = 1700000000000LL + (int64_t)B.n * 60000;
    snprintf(m->id, sizeof m->id, "18c%013x", 0x4a1b20 + B.n * 7);
    B.n++;
    m->raw = malloc(len + 1);
    memcpy(m->raw, raw, len);
    m->raw[len] = '\0';
    m->len = len;
    header_of(raw, len, "Message-ID", m->mid, sizeof m->mid);
    char irt[256];
    header_of(raw, len, "In-Reply-To", irt, sizeof irt);
    er_strlcpy(m->thread, m->id, sizeof m->thread);
    for (int i = 0; by_headers && irt[0] && i < B.n - 1; i++)
        if (strcmp(B.m[i].mid, irt) == 0)
            er_strlcpy(m->thread, B.m[i].thread, sizeof m->thread);
    history_add(H_ADDED, B.n - 1, NULL);
    return m;
}

static msg *box_find(const char *id)
{
    for (int i = 0; i < B.n; i++)
        if (!B.m[i].gone && strcmp(B.m[i].id, id) == 0)
            return &B.m[i];
    return NULL;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.eml of dir, by name, into INBOX as unread. */
static int box_load(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char *names[MAX_MSGS];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_MSGS)
        if (er_str_ends(e->d_name, ".eml"))
            names[n++] = er_xstrdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    for (int i = 0; i < n; i++) {
        char *path = er_xasprintf("%s/%s", dir, names[i]);
        er_buf b = ER_BUF_INIT;
        FILE *f = fopen(path, "rb");
        char chunk[4096];
        size_t r;
        while (f && (r = fread(chunk, 1, sizeof chunk, f)) > 0)
            er_buf_append(&b, chunk, r);
        if (f)
            fclose(f);
        msg *m = b.len ? box_add(b.ptr, b.len, true) : NULL;
        if (m) {
            msg_label(m, "INBOX", true);
            msg_label(m, "UNREAD", true);
        }
        er_buf_release(&b);
        free(path);
        free(names[i]);
    }
    return 0;
}

static cJSON *msg_ref(const msg *m, bool labels)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", m->id);
    er_json_add_str(j, "threadId", m->thread);
    if (labels) {
        cJSON *a = cJSON_AddArrayToObject(j, "labelIds");
        for (int i = 0; i < m->nlabels; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(m->labels[i]));
    }
    return j;
}

static int api_error(struct mg_connection *c, int status, const char *message)
{
    cJSON *j = cJSON_CreateObject(), *e = cJSON_CreateObject();
    er_json_add_num(e, "code", status);
    er_json_add_str(e, "message", message);
    er_json_add_str(e, "status", status == 404 ? "NOT_FOUND" : "INVALID_ARGUMENT");
    er_json_add(j, "error", e);
    return reply_json(c, status, j);
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

/* YYYYMMDD of an RFC 5322 date or of Gmail's YYYY/MM/DD; 0 if neither. */
static long day_of(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *comma = strchr(s, ',');
    if (strptime(comma ? comma + 1 : s, " %d %b %Y", &tm) ||
        (memset(&tm, 0, sizeof tm), strptime(s, "%Y/%m/%d", &tm)))
        return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    return 0;
}

/* Gmail's search operators the fake knows; *bad set for any other. */
static bool match_term(const msg *m, const char *t, bool *bad)
{
    char h[1024];
    const char *colon = strchr(t, ':');
    if (!colon)
        return contains_ci(m->raw, t);
    size_t ol = (size_t)(colon - t);
    const char *v = colon + 1;
    const char *hname = ol == 4 && !strncmp(t, "from", 4)      ? "From"
                        : ol == 2 && !strncmp(t, "to", 2)      ? "To"
                        : ol == 7 && !strncmp(t, "subject", 7) ? "Subject"
                                                               : NULL;
    if (hname) {
        header_of(m->raw, m->len, hname, h, sizeof h);
        return contains_ci(h, v);
    }
    if (ol == 11 && !strncmp(t, "rfc822msgid", 11)) {
        header_of(m->raw, m->len, "Message-ID", h, sizeof h);
        size_t vl = strlen(v);
        return strlen(h) == vl + 2 && h[0] == '<' && strncmp(h + 1, v, vl) == 0;
    }
    if (ol == 2 && !strncmp(t, "is", 2) && !strcmp(v, "unread"))
        return msg_has(m, "UNREAD");
    if ((ol == 5 && !strncmp(t, "after", 5)) || (ol == 6 && !strncmp(t, "before", 6))) {
        header_of(m->raw, m->len, "Date", h, sizeof h);
        long d = day_of(h), want = day_of(v);
        if (!want) {
            *bad = true;
            return false;
        }
        return t[0] == 'a' ? d >= want : d && d < want;
    }
    *bad = true;
    return false;
}

static bool match_q(const msg *m, const char *q, bool *bad)
{
    char t[512];
    for (const char *p = q; *p;) {
        while (*p == ' ')
            p++;
        size_t o = 0;
        bool quoted = false;
        for (; *p && (quoted || *p != ' '); p++)
            if (*p == '"')
                quoted = !quoted;
            else if (o + 1 < sizeof t)
                t[o++] = *p;
        t[o] = '\0';
        if (o && !match_term(m, t, bad))
            return false;
    }
    return true;
}

static int list_messages(struct mg_connection *c, const char *qs)
{
    char label[64] = "", q[1024] = "", tok[32] = "", max[16] = "";
    var(qs, "labelIds", label, sizeof label);
    var(qs, "q", q, sizeof q);
    var(qs, "pageToken", tok, sizeof tok);
    long lim = var(qs, "maxResults", max, sizeof max) ? strtol(max, NULL, 10) : 100;
    if (lim <= 0 || lim > B.page)
        lim = B.page;
    long skip = tok[0] ? strtol(tok, NULL, 10) : 0;
    cJSON *j = cJSON_CreateObject(), *a = cJSON_CreateArray();
    long seen = 0, emitted = 0;
    bool bad = false, more = false;
    B.lists++;
    for (int i = B.n - 1; i >= 0 && !bad; i--) { /* newest first */
        const msg *m = &B.m[i];
        if (m->gone)
            continue;
        bool bin = strcmp(label, "TRASH") == 0 || strcmp(label, "SPAM") == 0;
        bool hidden = !bin && (msg_has(m, "TRASH") || msg_has(m, "SPAM"));
        if ((label[0] && !msg_has(m, label)) || hidden || !match_q(m, q, &bad))
            continue;
        if (seen++ < skip)
            continue;
        if (emitted == lim) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(a, msg_ref(m, false));
        emitted++;
    }
    if (bad) {
        cJSON_Delete(a);
        cJSON_Delete(j);
        return api_error(c, 400, "Invalid search query");
    }
    if (emitted)
        er_json_add(j, "messages", a);
    else
        cJSON_Delete(a);
    if (more) {
        char next[32];
        snprintf(next, sizeof next, "%ld", skip + emitted);
        er_json_add_str(j, "nextPageToken", next);
    }
    er_json_add_num(j, "resultSizeEstimate", (double)emitted);
    return reply_json(c, 200, j);
}

static cJSON *msg_json(const msg *m, const char *format, const char *qs)
{
    cJSON *j = msg_ref(m, true);
    char snippet[120];
    header_of(m->raw, m->len, "Subject", snippet, sizeof snippet);
    er_json_add_str(j, "snippet", snippet);
    char hist[24], internal[24];
    snprintf(hist, sizeof hist, "%d", 1000 + (int)(m - B.m));
    snprintf(internal, sizeof internal, "%lld", (long long)m->internal);
    er_json_add_str(j, "historyId", hist);
    er_json_add_str(j, "internalDate", internal);
    er_json_add_num(j, "sizeEstimate", (double)m->len);
    if (strcmp(format, "raw") == 0) {
        er_buf b = ER_BUF_INIT;
        er_base64_encode(&b, m->raw, m->len, true);
        er_json_add_str(j, "raw", b.ptr ? b.ptr : "");
        er_buf_release(&b);
    } else if (strcmp(format, "metadata") == 0) {
        cJSON *p = cJSON_CreateObject(), *hs = cJSON_AddArrayToObject(p, "headers");
        /* Every metadataHeaders=… value, as mg_get_var2 enumerates them. */
        char name[64], v[1024];
        for (int k = 0;
             qs && mg_get_var2(qs, strlen(qs), "metadataHeaders", name, sizeof name, (size_t)k) > 0;
             k++) {
            header_of(m->raw, m->len, name, v, sizeof v);
            if (!v[0])
                continue;
            cJSON *h = cJSON_CreateObject();
            er_json_add_str(h, "name", name);
            er_json_add_str(h, "value", v);
            cJSON_AddItemToArray(hs, h);
        }
        er_json_add_str(p, "mimeType", "message/rfc822");
        er_json_add(j, "payload", p);
    }
    return j;
}

/* A request body as JSON (POST). */
static cJSON *read_json(struct mg_connection *c)
{
    er_buf b = ER_BUF_INIT;
    char chunk[8192];
    int r;
    while ((r = mg_read(c, chunk, sizeof chunk)) > 0)
        er_buf_append(&b, chunk, (size_t)r);
    cJSON *j = NULL;
    er_error err;
    if (b.len)
        er_json_parse(&j, b.ptr, b.len, &err);
    er_buf_release(&b);
    return j;
}

/* raw (base64url) of a message resource into a new message; NULL if bad. */
static msg *add_raw(const cJSON *res)
{
    const char *s = er_json_str(res, "raw");
    if (!s || strpbrk(s, "+/="))
        return NULL; /* Gmail wants the URL-safe alphabet */
    char *t = er_xstrdup(s);
    for (char *p = t; *p; p++)
        *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    er_buf b = ER_BUF_INIT;
    msg *m = er_base64_decode(&b, t, strlen(t)) == 0 && b.len ? box_add(b.ptr, b.len, false) : NULL;
    er_buf_release(&b);
    free(t);
    /* Gmail threads what it is given a threadId for (an unknown one is an
     * error there; here the message keeps its own thread). */
    const char *th = er_json_str(res, "threadId");
    for (int i = 0; m && th && i < B.n - 1; i++)
        if (strcmp(B.m[i].thread, th) == 0)
            er_strlcpy(m->thread, th, sizeof m->thread);
    return m;
}

static int messages(struct mg_connection *c, void *cb)
{
    (void)cb;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *uri = ri->local_uri + strlen("/gmail/v1/users/me/messages");
    bool post = strcmp(ri->request_method, "POST") == 0;
    record(ri->request_method, ri->local_uri, NULL);
    int gated = gate(c);
    if (gated)
        return gated;
    cJSON *body = post ? read_json(c) : NULL;
    pthread_mutex_lock(&F.lock);
    int rc;
    if (!*uri && !post) {
        rc = list_messages(c, ri->query_string);
    } else if ((!*uri || strcmp(uri, "/send") == 0 || strcmp(uri, "/import") == 0) && post) {
        msg *m = add_raw(body);
        bool send = strcmp(uri, "/send") == 0;
        const cJSON *l;
        bool ok = m != NULL;
        cJSON_ArrayForEach(l, er_json_arr(body, "labelIds"))
        {
            if (m && cJSON_IsString(l) && label_known(l->valuestring))
                msg_label(m, l->valuestring, true);
            else
                ok = false;
        }
        if (!ok) {
            rc = api_error(c, 400, m ? "Invalid label" : "Invalid value for ByteString: raw");
        } else {
            if (send) {
                msg_label(m, "SENT", true);
                B.sent++;
            } else {
                B.inserted++;
            }
            rc = reply_json(c, 200, msg_ref(m, true));
        }
    } else {
        char id[32] = "", verb[16] = "";
        const char *slash = *uri == '/' ? strchr(uri + 1, '/') : NULL;
        size_t il = slash ? (size_t)(slash - uri - 1) : strlen(uri) - (*uri == '/');
        if (*uri == '/' && il < sizeof id)
            memcpy(id, uri + 1, il), id[il] = '\0';
        if (slash)
            er_strlcpy(verb, slash + 1, sizeof verb);
        msg *m = box_find(id);
        bool del = strcmp(ri->request_method, "DELETE") == 0;
        if (!m) {
            rc = api_error(c, 404, "Requested entity was not found.");
        } else if (del && !verb[0]) {
            m->gone = true;
            B.deleted++;
            history_add(H_DELETED, (int)(m - B.m), NULL);
            reply(c, 204, "application/json", NULL, "");
            rc = 204;
        } else if (!post && !verb[0]) {
            char fmt[16] = "full";
            var(ri->query_string, "format", fmt, sizeof fmt);
            B.gets++;
            rc = reply_json(c, 200, msg_json(m, fmt, ri->query_string));
        } else if (post && strcmp(verb, "modify") == 0) {
            const cJSON *l;
            bool ok = true;
            cJSON_ArrayForEach(l, er_json_arr(body, "addLabelIds"))
            {
                ok = ok && cJSON_IsString(l) && label_known(l->valuestring);
            }
            cJSON_ArrayForEach(l, er_json_arr(body, "removeLabelIds"))
            {
                ok = ok && cJSON_IsString(l) && label_known(l->valuestring);
            }
            if (ok) {
                cJSON_ArrayForEach(l, er_json_arr(body, "addLabelIds"))
                {
                    msg_label(m, l->valuestring, true);
                }
                cJSON_ArrayForEach(l, er_json_arr(body, "removeLabelIds"))
                {
                    msg_label(m, l->valuestring, false);
                }
                B.modified++;
                rc = reply_json(c, 200, msg_ref(m, true));
            } else {
                rc = api_error(c, 400, "Invalid label");
            }
        } else if (post && strcmp(verb, "trash") == 0) {
            msg_label(m, "TRASH", true);
            msg_label(m, "INBOX", false);
            B.trashed++;
            rc = reply_json(c, 200, msg_ref(m, true));
        } else {
            rc = api_error(c, 404, "Not Found");
        }
    }
    pthread_mutex_unlock(&F.lock);
    cJSON_Delete(body);
    return rc;
}

static int threads(struct mg_connection *c, void *cb)
{
    (void)cb;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *uri = ri->local_uri + strlen("/gmail/v1/users/me/threads");
    record(ri->request_method, ri->local_uri, NULL);
    int gated = gate(c);
    if (gated)
        return gated;
    pthread_mutex_lock(&F.lock);
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "messages");
    const char *id = *uri == '/' ? uri + 1 : "";
    er_json_add_str(j, "id", id);
    for (int i = 0; i < B.n; i++) /* oldest first, as Gmail lists a thread */
        if (!B.m[i].gone && strcmp(B.m[i].thread, id) == 0)
            cJSON_AddItemToArray(a, msg_json(&B.m[i], "minimal", NULL));
    int rc = cJSON_GetArraySize(a)
                 ? reply_json(c, 200, j)
                 : (cJSON_Delete(j), api_error(c, 404, "Requested entity was not found."));
    pthread_mutex_unlock(&F.lock);
    return rc;
}

static int drafts(struct mg_connection *c, void *cb)
{
    (void)cb;
    const struct mg_request_info *ri = mg_get_request_info(c);
    record(ri->request_method, ri->local_uri, NULL);
    int gated = gate(c);
    if (gated)
        return gated;
    cJSON *body = read_json(c);
    pthread_mutex_lock(&F.lock);
    int rc;
    msg *m = strcmp(ri->request_method, "POST") == 0 &&
                     strcmp(ri->local_uri, "/gmail/v1/users/me/drafts") == 0
                 ? add_raw(er_json_obj(body, "message"))
                 : NULL;
    if (!m) {
        rc = api_error(c, 400, "Invalid draft");
    } else {
        msg_label(m, "DRAFT", true);
        cJSON *j = cJSON_CreateObject();
        char did[32];
        snprintf(did, sizeof did, "r%d", 5000 + B.ndrafts++);
        er_json_add_str(j, "id", did);
        er_json_add(j, "message", msg_ref(m, true));
        rc = reply_json(c, 200, j);
    }
    pthread_mutex_unlock(&F.lock);
    cJSON_Delete(body);
    return rc;
}

static int labels(struct mg_connection *c, void *cb)
{
    (void)cb;
    record("GET", "/gmail/v1/users/me/labels", NULL);
    int gated = gate(c);
    if (gated)
        return gated;
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "labels");
    for (int i = 0; system_labels[i]; i++) {
        cJSON *l = cJSON_CreateObject();
        er_json_add_str(l, "id", system_labels[i]);
        er_json_add_str(l, "name", system_labels[i]);
        er_json_add_str(l, "type", "system");
        cJSON_AddItemToArray(a, l);
    }
    for (int i = 0; i < B.nuser; i++) {
        cJSON *l = cJSON_CreateObject();
        char lid[32];
        snprintf(lid, sizeof lid, "Label_%d", i + 1);
        er_json_add_str(l, "id", lid);
        er_json_add_str(l, "name", B.user_labels[i]);
        er_json_add_str(l, "type", "user");
        cJSON_AddItemToArray(a, l);
    }
    return reply_json(c, 200, j);
}

/* users.history.list. */
static int history(struct mg_connection *c, void *cb)
{
    (void)cb;
    const struct mg_request_info *ri = mg_get_request_info(c);
    record("GET", ri->local_uri, NULL);
    int gated = gate(c);
    if (gated)
        return gated;
    const char *qs = ri->query_string;
    char start[32] = "", tok[32] = "", max[16] = "", type[32];
    if (!var(qs, "startHistoryId", start, sizeof start) || !start[0])
        return api_error(c, 400, "Missing required parameter startHistoryId");
    var(qs, "pageToken", tok, sizeof tok);
    long lim = var(qs, "maxResults", max, sizeof max) ? strtol(max, NULL, 10) : 100;
    if (lim <= 0 || lim > 500)
        lim = 500;
    bool want[4] = { false, false, false, false }, any = false;
    for (int k = 0;
         qs && mg_get_var2(qs, strlen(qs), "historyTypes", type, sizeof type, (size_t)k) > 0; k++)
        for (int t = 0; t < 4; t++)
            if (strcmp(type, history_types[t]) == 0)
                want[t] = any = true;
    long long from = strtoll(start, NULL, 10);
    long skip = tok[0] ? strtol(tok, NULL, 10) : 0;
    pthread_mutex_lock(&F.lock);
    B.histories++;
    if (from < H.floor) {
        pthread_mutex_unlock(&F.lock);
        return api_error(c, 404, "Requested entity was not found.");
    }
    cJSON *j = cJSON_CreateObject(), *a = cJSON_CreateArray();
    long seen = 0, emitted = 0;
    bool more = false;
    for (int i = 0; i < H.n; i++) {
        if (H.r[i].id <= from || (any && !want[H.r[i].type]))
            continue;
        if (seen++ < skip)
            continue;
        if (emitted == lim) {
            more = true;
            break;
        }
        const msg *m = &B.m[H.r[i].msg];
        cJSON *h = cJSON_CreateObject(), *ms = cJSON_AddArrayToObject(h, "messages");
        char id[24];
        snprintf(id, sizeof id, "%lld", H.r[i].id);
        er_json_add_str(h, "id", id);
        cJSON_AddItemToArray(ms, msg_ref(m, false));
        cJSON *ch = cJSON_AddArrayToObject(h, history_types[H.r[i].type]),
              *e = cJSON_CreateObject();
        er_json_add(e, "message", msg_ref(m, true));
        if (H.r[i].type >= H_LABEL_ADDED)
            cJSON_AddItemToArray(cJSON_AddArrayToObject(e, "labelIds"),
                                 cJSON_CreateString(H.r[i].label));
        cJSON_AddItemToArray(ch, e);
        cJSON_AddItemToArray(a, h);
        emitted++;
    }
    if (emitted)
        er_json_add(j, "history", a);
    else
        cJSON_Delete(a);
    char hist[32];
    snprintf(hist, sizeof hist, "%lld", H.last);
    er_json_add_str(j, "historyId", hist);
    if (more) {
        char next[32];
        snprintf(next, sizeof next, "%ld", skip + emitted);
        er_json_add_str(j, "nextPageToken", next);
    }
    pthread_mutex_unlock(&F.lock);
    return reply_json(c, 200, j);
}

/* The batch endpoint: each part an application/http request; only
 * messages.get is served inside a batch here. */
static int batch(struct mg_connection *c, void *cb)
{
    (void)cb;
    const struct mg_request_info *ri = mg_get_request_info(c);
    record(ri->request_method, ri->local_uri, NULL);
    int gated = gate(c);
    if (gated)
        return gated;
    const char *ct = mg_get_header(c, "Content-Type"), *bp = ct ? strstr(ct, "boundary=") : NULL;
    if (strcmp(ri->request_method, "POST") != 0 || !ct || !er_str_starts(ct, "multipart/mixed") ||
        !bp)
        return api_error(c, 400, "Batch requests must be multipart/mixed with a boundary");
    char delim[128];
    snprintf(delim, sizeof delim, "--%.*s", (int)strcspn(bp + 9, "; \""), bp + 9 + (bp[9] == '"'));
    er_buf body = ER_BUF_INIT;
    char chunk[8192];
    int r;
    while ((r = mg_read(c, chunk, sizeof chunk)) > 0)
        er_buf_append(&body, chunk, (size_t)r);
    const char *b = er_buf_cstr(&body);
    er_buf out = ER_BUF_INIT;
    const char *answer_boundary = "batch_fake_answer";
    int parts = 0, status = 200;
    pthread_mutex_lock(&F.lock);
    B.batches++;
    for (const char *p = strstr(b, delim); p;) {
        p += strlen(delim);
        if (er_str_starts(p, "--"))
            break; /* the closing delimiter */
        const char *next = strstr(p, delim);
        const char *hdr_end = strstr(p, "\r\n\r\n");
        if (!hdr_end || (next && hdr_end > next))
            break;
        char cid[128] = "";
        const char *cidp = strcasestr(p, "Content-ID:");
        if (cidp && cidp < hdr_end) {
            cidp += 11;
            while (*cidp == ' ' || *cidp == '<')
                cidp++;
            size_t l = strcspn(cidp, ">\r\n");
            snprintf(cid, sizeof cid, "%.*s", (int)(l < 100 ? l : 100), cidp);
        }
        const char *line = hdr_end + 4;
        char method[16] = "", target[1024] = "";
        sscanf(line, "%15s %1023s", method, target);
        if (++parts > 100) {
            status = 400;
            break;
        }
        int code = 404;
        cJSON *j = NULL;
        const char *prefix = "/gmail/v1/users/me/messages/";
        if (strcmp(method, "GET") == 0 && er_str_starts(target, prefix)) {
            char id[32] = "", *q = strchr(target, '?');
            size_t il = (q ? (size_t)(q - target) : strlen(target)) - strlen(prefix);
            if (il < sizeof id) {
                memcpy(id, target + strlen(prefix), il);
                id[il] = '\0';
            }
            msg *m = box_find(id);
            if (m) {
                char fmt[16] = "full";
                var(q ? q + 1 : "", "format", fmt, sizeof fmt);
                B.gets++;
                j = msg_json(m, fmt, q ? q + 1 : "");
                code = 200;
            }
        }
        if (!j) {
            j = cJSON_CreateObject();
            cJSON *e = cJSON_CreateObject();
            er_json_add_num(e, "code", 404);
            er_json_add_str(e, "message", "Requested entity was not found.");
            er_json_add(j, "error", e);
        }
        char *s = er_json_print(j);
        cJSON_Delete(j);
        er_buf_printf(&out,
                      "--%s\r\nContent-Type: application/http\r\nContent-ID: <response-%s>\r\n\r\n"
                      "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=UTF-8\r\n"
                      "Content-Length: %zu\r\n\r\n%s\r\n",
                      answer_boundary, cid, code, code == 200 ? "OK" : "Not Found", strlen(s), s);
        free(s);
        p = next;
    }
    pthread_mutex_unlock(&F.lock);
    er_buf_release(&body);
    if (status != 200) {
        er_buf_release(&out);
        return api_error(c, 400, "Too many requests in batch.");
    }
    er_buf_printf(&out, "--%s--\r\n", answer_boundary);
    char ctype[96];
    snprintf(ctype, sizeof ctype, "multipart/mixed; boundary=%s", answer_boundary);
    reply(c, 200, ctype, NULL, er_buf_cstr(&out));
    er_buf_release(&out);
    return 200;
}

/* ---- test controls ---- */

static int control(struct mg_connection *c, void *cb)
{
    (void)cb;
    const char *uri = mg_get_request_info(c)->local_uri;
    pthread_mutex_lock(&F.lock);
    if (strcmp(uri, "/_fake/messages") == 0) {
        cJSON *a = cJSON_CreateArray();
        for (int i = 0; i < B.n; i++) {
            if (B.m[i].gone)
                continue;
            cJSON *m = msg_ref(&B.m[i], true);
            er_json_add_str(m, "messageId", B.m[i].mid);
            cJSON_AddItemToArray(a, m);
        }
        pthread_mutex_unlock(&F.lock);
        cJSON *j = cJSON_CreateObject();
        er_json_add(j, "messages", a);
        return reply_json(c, 200, j);
    }
    cJSON *j = cJSON_CreateObject();
    if (strcmp(uri, "/_fake/expire") == 0) {
        for (int i = 0; i < F.naccess && i < MAX_TOKENS; i++)
            F.access[i].valid = false;
    } else if (strcmp(uri, "/_fake/expire_after") == 0) {
        char n[32];
        if (var(mg_get_request_info(c)->query_string, "requests", n, sizeof n))
            F.expire_after = strtol(n, NULL, 10);
    } else if (strcmp(uri, "/_fake/ttl") == 0) {
        char secs[32];
        if (var(mg_get_request_info(c)->query_string, "seconds", secs, sizeof secs))
            F.access_ttl = strtol(secs, NULL, 10);
    } else if (strcmp(uri, "/_fake/throttle") == 0) {
        const char *qs = mg_get_request_info(c)->query_string;
        char v[32];
        F.throttle = var(qs, "count", v, sizeof v) ? (int)strtol(v, NULL, 10) : 1;
        F.throttle_status = var(qs, "status", v, sizeof v) ? (int)strtol(v, NULL, 10) : 429;
        F.retry_after = var(qs, "retry_after", v, sizeof v) ? strtol(v, NULL, 10) : -1;
    } else if (strcmp(uri, "/_fake/expire_history") == 0) {
        H.floor = H.last + 1;
    } else if (strcmp(uri, "/_fake/revoke_all") == 0) {
        for (int i = 0; i < F.nrefresh && i < MAX_TOKENS; i++)
            F.refresh[i].valid = false;
    }
    er_json_add_num(j, "codes_issued", F.codes_issued);
    er_json_add_num(j, "exchanges", F.exchanges);
    er_json_add_num(j, "refreshes", F.refreshes);
    er_json_add_num(j, "profiles", F.profiles);
    er_json_add_num(j, "unauthorized", F.unauthorized);
    er_json_add_num(j, "revoked", F.revoked);
    er_json_add_num(j, "invalid_grants", F.invalid_grants);
    er_json_add_num(j, "messages", B.n);
    er_json_add_num(j, "drafts", B.ndrafts);
    er_json_add_num(j, "inserted", B.inserted);
    er_json_add_num(j, "sent", B.sent);
    er_json_add_num(j, "modified", B.modified);
    er_json_add_num(j, "trashed", B.trashed);
    er_json_add_num(j, "lists", B.lists);
    er_json_add_num(j, "gets", B.gets);
    er_json_add_num(j, "histories", B.histories);
    er_json_add_num(j, "batches", B.batches);
    er_json_add_num(j, "deleted", B.deleted);
    er_json_add_num(j, "throttled", F.throttled);
    er_json_add_num(j, "history_id", (double)H.last);
    if (F.naccess)
        er_json_add_str(j, "last_access_token", F.access[(F.naccess - 1) % MAX_TOKENS].value);
    if (F.nrefresh)
        er_json_add_str(j, "last_refresh_token", F.refresh[(F.nrefresh - 1) % MAX_TOKENS].value);
    pthread_mutex_unlock(&F.lock);
    return reply_json(c, 200, j);
}

int main(int argc, char **argv)
{
    const char *port = "0", *port_file = NULL, *mailbox = NULL;
    for (int i = 1; i < argc; i++) {
        bool more = i + 1 < argc;
        if (strcmp(argv[i], "--rotate") == 0)
            F.rotate = true;
        else if (more && strcmp(argv[i], "--port") == 0)
            port = argv[++i];
        else if (more && strcmp(argv[i], "--port-file") == 0)
            port_file = argv[++i];
        else if (more && strcmp(argv[i], "--record") == 0)
            F.record = argv[++i];
        else if (more && strcmp(argv[i], "--client-id") == 0)
            F.client_id = argv[++i];
        else if (more && strcmp(argv[i], "--client-secret") == 0)
            F.client_secret = argv[++i];
        else if (more && strcmp(argv[i], "--email") == 0)
            F.email = argv[++i];
        else if (more && strcmp(argv[i], "--mailbox") == 0)
            mailbox = argv[++i];
        else if (more && strcmp(argv[i], "--page") == 0)
            B.page = strtol(argv[++i], NULL, 10);
        else if (more && strcmp(argv[i], "--label") == 0 && B.nuser < MAX_LABELS)
            er_strlcpy(B.user_labels[B.nuser++], argv[++i], sizeof B.user_labels[0]);
        else if (more && strcmp(argv[i], "--access-ttl") == 0)
            F.access_ttl = strtol(argv[++i], NULL, 10);
    }
    if (!F.client_id || !F.client_secret) {
        fprintf(stderr, "usage: fake_gmail --client-id ID --client-secret S [--port N] "
                        "[--port-file F] [--record F] [--access-ttl S] [--rotate] [--email A] "
                        "[--mailbox DIR] [--label NAME]... [--page N]\n");
        return 2;
    }
    if (mailbox && box_load(mailbox) < 0) {
        fprintf(stderr, "fake_gmail: cannot read mailbox %s\n", mailbox);
        return 1;
    }
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", port);
    const char *opts[] = { "listening_ports", listen, "num_threads", "8", NULL };
    struct mg_callbacks cbs;
    memset(&cbs, 0, sizeof cbs);
    struct mg_context *ctx = mg_start(&cbs, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "fake_gmail: cannot listen on %s\n", listen);
        return 1;
    }
    mg_set_request_handler(ctx, "/o/oauth2/v2/auth", authorize, NULL);
    mg_set_request_handler(ctx, "/token", token_endpoint, NULL);
    mg_set_request_handler(ctx, "/revoke", revoke_endpoint, NULL);
    mg_set_request_handler(ctx, "/gmail/v1/users/me/profile", profile, NULL);
    mg_set_request_handler(ctx, "/gmail/v1/users/me/labels", labels, NULL);
    mg_set_request_handler(ctx, "/gmail/v1/users/me/messages", messages, NULL);
    mg_set_request_handler(ctx, "/gmail/v1/users/me/threads", threads, NULL);
    mg_set_request_handler(ctx, "/gmail/v1/users/me/drafts", drafts, NULL);
    mg_set_request_handler(ctx, "/gmail/v1/users/me/history", history, NULL);
    mg_set_request_handler(ctx, "/batch/gmail/v1", batch, NULL);
    mg_set_request_handler(ctx, "/_fake/", control, NULL);
    if (fake_publish_port(ctx, port_file) < 0) {
        mg_stop(ctx);
        return 1;
    }
    fake_serve_until_stopped(ctx);
    return 0;
}
