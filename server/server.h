/* server.h — internals of `errand serve`, shared by the files of server/:
 *
 *   http.c        libmicrohttpd set-up, the stages of a request, CORS, limits
 *   reply.c       replies kept in the request; error bodies; statuses of codes
 *   json_parse.c  JSON from outside, with a cap on nesting
 *   pool.c        the threads that run SRV_SLOW handlers
 *   conns.c       slow clients: request header deadline, room at the connection cap
 *   sessions.c    users and sessions checked per request, cached; revocations seen
 *   body.c        request bodies: size, JSON, validation naming the field
 *   routes.c      the route table (method, path, handler, flags, OpenAPI docs)
 *                 and matching a request against it
 *   routes_*.c    the handlers, one resource family a file (routes_mcp.c:
 *                 MCP over Streamable HTTP, for the token's user)
 *   tasks.c       what the task routes and ws.c share: visibility, chat
 *                 submission, events as JSON
 *   auth.c        bearer tokens → users; issuing API, access and refresh tokens
 *   jwt.c         JWS/JWT: HS256 access tokens, RS256 ID tokens against a JWK
 *   crypto.c      random bytes, SHA-256, HMAC, strict base64url
 *   oidc.c        OpenID Connect login (authorization code + PKCE)
 *   ratelimit.c   per user and endpoint, counted in the cache
 *   metrics.c     Prometheus text: requests, latency, tasks, queues
 *   openapi.c     the OpenAPI document, built from the route table
 *   hub.c         fans task events from the cache out to WebSocket connections
 *   ws.c          the WebSocket protocol: subscribe, chat, approvals
 *   wsframe.c     RFC 6455 framing over the upgraded socket
 *   jsonw.c       JSON written by hand for the hot answers
 *   submit.c      group commit of chat submissions
 *   static.c      the web interface's built files at /
 *   serve.c       start-up and shutdown, in order
 *
 * Threads: libmicrohttpd's event threads (server.threads, each serving many
 * connections through epoll) run the handlers of quick routes; routes that
 * may wait on the network (SRV_SLOW) run on a small pool of their own while
 * their connection is suspended.  Handlers only read `srv` (set up before the
 * first request) or go through thread-safe objects (env, metrics, hub). */
#ifndef ERRAND_SERVER_H
#define ERRAND_SERVER_H

#include "serve.h"
#include "errand/buf.h"
#include "errand/config.h"
#include "errand/json.h"
#include "errand/store.h"
#include "errand/str.h"
#include "errand/tasks.h"

#include "mhd_api.h"
#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <string.h>

/* ---- crypto.c ---- */
int srv_random(void *buf, size_t n);
void srv_hex(const unsigned char *bytes, size_t n, char *out); /* out: 2n + 1 */
void srv_sha256(const void *data, size_t len, unsigned char out[32]);
void srv_sha256_hex(const void *data, size_t len, char out[65]);
/* HMAC-SHA256 under one key, prepared once (OWNED; NULL if libcrypto fails). */
typedef struct srv_hmac srv_hmac;
srv_hmac *srv_hmac_new(const void *key, size_t keylen);
void srv_hmac_free(srv_hmac *h);
/* 0, or ER_EINTERNAL when libcrypto fails (out is then not a MAC). */
int srv_hmac_sign(const srv_hmac *h, const void *data, size_t len, unsigned char out[32]);
bool srv_equal(const void *a, const void *b, size_t n); /* constant time */
void srv_b64url_encode(const void *data, size_t len, er_buf *out);
/* ER_EINVAL on anything but canonical unpadded base64url. */
int srv_b64url_decode(const char *s, size_t len, er_buf *out);
/* prefix + base64url of nbytes random bytes. */
void srv_random_token(const char *prefix, size_t nbytes, er_buf *out);

/* ---- jwt.c ---- */
typedef struct srv_jws {
    cJSON *header;
    cJSON *claims;
    const char *signing_input; /* BORROWED: "header.payload" of the token */
    size_t signing_len;
    er_buf sig;
} srv_jws;

/* Splits and decodes a compact JWS (three base64url parts, JSON header and
 * claims objects); ER_EAUTH with the reason otherwise. */
int srv_jws_parse(const char *token, srv_jws *out, er_error *err);
void srv_jws_release(srv_jws *j);
/* OWNED compact token with header {"alg":"HS256","typ":"JWT"}. */
/* NULL when libcrypto fails. */
char *srv_jwt_sign_hs256(const srv_hmac *key, const cJSON *claims);
/* Verifies an HS256 token: the algorithm is pinned (anything else, "none"
 * included, is refused), the signature checked in constant time, exp required
 * and checked.  *claims_out is OWNED. */
int srv_jwt_verify_hs256(const srv_hmac *key, const char *token, int64_t now_s, cJSON **claims_out,
                         er_error *err);
/* RS256 signature of a parsed JWS against an RSA JWK ({"kty":"RSA","n","e"}). */
int srv_jws_verify_rs256(const srv_jws *j, const cJSON *jwk, er_error *err);
/* exp (required), nbf and iat (optional) against now, with leeway seconds. */
int srv_jwt_check_time(const cJSON *claims, int64_t now_s, int64_t leeway_s, er_error *err);

/* ---- jsonw.c: JSON written by hand for the hot answers ---- */
/* Commas are put in by looking at the last byte written. */
void srv_jw_key(er_buf *b, const char *key);
void srv_jw_open(er_buf *b, const char *key, char bracket); /* key NULL: in an array */
void srv_jw_close(er_buf *b, char bracket);
void srv_jw_str(er_buf *b, const char *key, const char *val); /* NULL: null */
void srv_jw_int(er_buf *b, const char *key, int64_t v);
void srv_jw_time(er_buf *b, const char *key, int64_t ms);      /* ISO 8601 */
void srv_jw_raw(er_buf *b, const char *key, const char *json); /* our own JSON text */

/* ---- the server ---- */
typedef struct srv_metrics srv_metrics;
typedef struct srv_hub srv_hub;
typedef struct srv_oidc srv_oidc;

typedef struct srv {
    er_env *env;
    const er_config *cfg;
    struct MHD_Daemon *daemon;
    struct srv_pool *pool;         /* runs SRV_SLOW handlers (http.c) */
    struct srv_conns *conns;       /* header deadline, room at the cap (conns.c) */
    struct srv_sessions *sessions; /* users and sessions, checked per request (sessions.c) */
    struct srv_batch *batch;       /* group commit of chat submissions (submit.c) */
    char listen[128];              /* HOST:PORT as configured */
    int port;                      /* the port bound */
    unsigned char jwt_key[128];
    size_t jwt_key_len;
    srv_hmac *jwt_hmac; /* jwt_key, prepared (auth.c) */
    char base_url[256]; /* public URL, no trailing slash */
    char **origins;     /* server.cors_origins, split */
    size_t norigins;
    srv_metrics *metrics;
    srv_hub *hub;
    srv_oidc *oidc;              /* NULL when login is not configured */
    char *openapi;               /* the document, built once */
    struct srv_wsset *ws;        /* open WebSocket connections (ws.c) */
    struct srv_streams *streams; /* open chat-completion streams (routes_openai.c) */
    atomic_int stopping;
} srv;

typedef struct srv_user {
    char id[ER_ID_LEN];
    char name[128];
    bool admin;                 /* the stored role, looked up per request */
    char token_id[ER_ID_LEN];   /* the API token used, or the one its session came from */
    char session_id[ER_ID_LEN]; /* an access token's session; "" for an API token */
} srv_user;

/* Request body fields and query parameters: validation and documentation. */
typedef enum { SRV_T_STRING, SRV_T_OBJECT, SRV_T_BOOL, SRV_T_INT } srv_type;

typedef struct srv_field {
    const char *name; /* NULL ends a list */
    srv_type type;
    bool required;
    size_t max_len; /* strings: bytes (0: the body cap only); ints: maximum */
    const char *desc;
} srv_field;

typedef struct srv_resp_doc {
    int status; /* 0 ends a list */
    const char *desc;
    const char *schema; /* components.schemas name, or NULL */
} srv_resp_doc;

typedef struct srv_req srv_req;
/* Replies (through srv_reply*) and returns the status it sent. */
typedef int (*srv_handler)(srv_req *r);

enum {
    SRV_AUTH = 1 << 0,      /* needs a bearer token */
    SRV_ADMIN = 1 << 1,     /* and the admin role */
    SRV_BODY = 1 << 2,      /* a JSON object body, checked against body fields */
    SRV_FREE_BODY = 1 << 3, /* a JSON object body of any shape */
    SRV_NO_LIMIT = 1 << 4,  /* not rate limited (probes, metrics) */
    SRV_WS = 1 << 5,        /* WebSocket upgrade (served by ws.c) */
    SRV_TEXT = 1 << 6,      /* answers text/plain */
    SRV_REDIRECT = 1 << 7,  /* answers with a redirect */
    SRV_SLOW = 1 << 8,      /* may wait on the network: runs off the event threads */
};

typedef struct srv_route {
    const char *method;
    const char *path; /* "/api/v1/tasks/{id}": {x} is one path segment */
    srv_handler fn;
    const char *name; /* operationId, metrics label, rate limit endpoint */
    unsigned flags;
    const char *summary;
    const srv_field *body;  /* SRV_BODY: the fields */
    const srv_field *query; /* query parameters */
    const srv_resp_doc *responses;
} srv_route;

extern const srv_route srv_routes[];
extern const size_t srv_nroutes;

#define SRV_MAX_PARAMS 2
#define SRV_PARAM_MAX  160

/* ---- routes.c: matching ---- */
/* The route for method and (decoded) path, its path parameters in params and
 * its index in *idx; NULL (and *idx srv_nroutes) when none matches, with the
 * methods the path does allow appended to allow ("GET, HEAD, POST"; nothing
 * when no route has the path; what allow holds after a match means nothing).
 * HEAD matches GET routes.  No request state. */
const srv_route *srv_route_find(const char *method, const char *path,
                                char params[SRV_MAX_PARAMS][SRV_PARAM_MAX], size_t *idx,
                                er_buf *allow);

struct srv_req {
    srv *s;
    struct MHD_Connection *conn;
    const char *method;
    const char *path; /* decoded, without the query */
    const srv_route *route;
    size_t route_idx;                           /* srv_nroutes when none matched */
    char params[SRV_MAX_PARAMS][SRV_PARAM_MAX]; /* path parameters, in order */
    srv_user user;                              /* SRV_AUTH routes */
    cJSON *body;                                /* SRV_BODY / SRV_FREE_BODY */
    char request_id[ER_ID_LEN];
    const char *origin; /* the request's Origin when allowed, else NULL */
    bool close;         /* answer with Connection: close */
    bool cache_set;     /* headers has Cache-Control (else: no-store) */
    const char *extra;  /* header lines every reply carries (each ending \r\n) */
    /* The reply: srv_reply* fill it, http.c sends it when the handler is done. */
    int status; /* 0 until a reply is made */
    const char *ctype;
    er_buf headers; /* "Name: value\r\n" lines */
    er_buf reply;
    struct MHD_Response *upgrade; /* a 101 answer (ws.c) */
    /* http.c's own state */
    er_buf in; /* the body as it arrives */
    int64_t t0_us;
    int stage;
    bool queued;
};

/* ---- json_parse.c: JSON from outside ---- */
/* er_json_parse after refusing nesting deeper than SRV_JSON_DEPTH: cJSON
 * recurses once per level: a hostile body must not exhaust a thread's stack. */
#define SRV_JSON_DEPTH 64
int srv_json_parse(cJSON **out, const char *s, size_t len, er_error *err);

/* ---- reply.c: replies ---- */
/* extra: header lines, each ending in \r\n, or NULL. */
int srv_reply(srv_req *r, int status, const char *ctype, const char *extra, const char *body,
              size_t len);
int srv_reply_json(srv_req *r, int status, cJSON *j);    /* TAKES j */
int srv_reply_buf(srv_req *r, int status, er_buf *json); /* TAKES json's contents */
/* {"error": {"status", "code", "message", "field"?}, "request_id"}. */
int srv_reply_error(srv_req *r, int status, const char *field, const char *fmt, ...)
    ER_PRINTF(4, 5);
/* Maps an er_error to a status; 5xx answers carry no details (they are logged). */
int srv_reply_err(srv_req *r, const er_error *err);
int srv_status_of(int code);

/* ---- http.c: reading the request ---- */
/* A query parameter (decoded) into buf; false when absent. */
bool srv_query(srv_req *r, const char *name, char *buf, size_t n);
/* A request header, BORROWED for the request; NULL when absent. */
const char *srv_header(srv_req *r, const char *name);
/* Parses an integer query parameter within [min, max]; replies 400 naming it otherwise
 * (then returns the status, else 0). */
int srv_query_int(srv_req *r, const char *name, long def, long min, long max, long *out);
bool srv_origin_allowed(const srv *s, const char *origin);
/* ---- body.c ---- */
/* On the headers of a body route: JSON declared and Content-Length within
 * server.max_body; replies 415 / 413 and returns the status, else 0. */
int srv_body_headers(srv_req *r);
/* The whole body in r->in: parsed into r->body and validated, or a 400. */
int srv_body_parse(srv_req *r);
/* len bytes of s are valid UTF-8 (no overlongs, surrogates or code points
 * past U+10FFFF). */
bool srv_utf8_valid(const char *s, size_t len);
/* JSON text with a "\u0000" in a string (which cJSON would silently cut there). */
bool srv_json_has_nul(const char *s, size_t len);

/* ---- http.c: requests ---- */
/* Hands a request to another thread: suspend it on the event thread (the
 * handler then returns at once), reply from the other thread, then resume it;
 * from srv_resume on, the request belongs to libmicrohttpd again. */
void srv_suspend(srv_req *r);
void srv_resume(srv_req *r);

/* ---- pool.c ---- */
struct srv_pool *srv_pool_new(void);
/* Runs r's handler on the pool with r suspended (resumed when it is done):
 * true; false when the pool takes no more work (it is stopping, or has no
 * thread), and the caller runs the handler itself. */
bool srv_pool_submit(struct srv_pool *p, srv_req *r);
/* Lets the jobs in hand finish (their connections resume), then joins. */
void srv_pool_free(struct srv_pool *p);
int srv_http_start(srv *s, const char *listen, er_error *err);
/* Stops accepting, finishes the slow handlers in hand, stops the daemon. */
void srv_http_stop(srv *s);
/* "http://127.0.0.1:PORT" of the first listening port. */
void srv_http_url(const srv *s, char *out, size_t n);

/* ---- conns.c: slow clients (header deadline, room at the connection cap) ---- */
typedef struct srv_conns srv_conns;
/* Starts the watchdog; ER_EINTERNAL when it cannot (*out is set anyway). */
int srv_conns_new(srv_conns **out, const er_config *cfg);
void srv_conns_free(srv_conns *c); /* after the daemon stopped */
/* server.max_connections, within what the open-file limit allows (raised to
 * its hard limit when it is lower). */
long srv_conns_limit(const er_config *cfg);
/* MHD_OPTION_NOTIFY_CONNECTION (cls: the srv_conns). */
void srv_conns_notify(void *cls, struct MHD_Connection *conn, void **ctx,
                      enum MHD_ConnectionNotificationCode toe);
/* A request's headers are in: its connection is no longer half-open. */
void srv_conns_headers_done(srv_conns *c, struct MHD_Connection *conn);
/* A request ended: the next one's headers are due in time (an upgraded
 * connection is left alone from then on). */
void srv_conns_request_done(srv_conns *c, struct MHD_Connection *conn, bool upgraded);

/* ---- sessions.c: who is still allowed in (cached, dropped on change) ---- */
typedef struct srv_sessions srv_sessions;
/* The cache and the poller of the store's auth changes. */
int srv_sessions_start(srv *s, er_error *err);
void srv_sessions_stop(srv *s);
/* The stored user behind user_id into out's id, name and admin: ER_EAUTH
 * when it no longer exists. */
int srv_sessions_user(srv *s, const char *user_id, srv_user *out, er_error *err);
/* A live session of user_id (ER_EAUTH when revoked, ended or someone
 * else's); token_id_out: the API token it came from ("" for a login). */
int srv_sessions_check(srv *s, const char *session_id, const char *user_id,
                       char token_id_out[ER_ID_LEN], er_error *err);
/* Drops what is cached about a user or session (a change made here). */
void srv_sessions_forget(srv *s, const char *id);

/* ---- auth.c ---- */
int srv_auth_init(srv *s, er_error *err);
/* A bearer token (API token or access JWT) → user; ER_EAUTH with the reason. */
int srv_auth_token(srv *s, const char *token, srv_user *out, er_error *err);
/* Authenticates the request (Authorization: Bearer); replies 401 and returns
 * the status when it fails, 0 when r->user is set. */
int srv_auth_request(srv_req *r);
/* A new access + refresh token pair for user: family NULL starts a session
 * (api_token_id: the API token exchanged for it, NULL for a login), which
 * ends refresh_ttl later however often it is refreshed; a family continues
 * its session.  OWNED: {"access_token","token_type","expires_in",
 * "refresh_token","refresh_expires_in","session_id","user"}. */
int srv_auth_issue(srv *s, const er_user *u, const char *family, const char *api_token_id,
                   cJSON **out, er_error *err);
/* The user of a stored token digest, as srv_user. */
void srv_user_from(srv_user *out, const er_user *u);
/* Whether u may see rows owned by owner_id. */
static inline bool srv_may_see(const srv_user *u, const char *owner_id)
{
    return u->admin || (owner_id && strcmp(u->id, owner_id) == 0);
}

/* ---- oidc.c ---- */
typedef struct srv_identity {
    char issuer[256];
    char subject[256];
    char name[128];
    char email[256];
} srv_identity;

int srv_oidc_new(srv_oidc **out, srv *s, er_error *err); /* *out NULL: not configured */
void srv_oidc_free(srv_oidc *o);
/* The provider's authorization URL for a new login (state kept in the cache). */
int srv_oidc_begin(srv_oidc *o, const char *login_hint, er_buf *url_out, er_error *err);
/* Finishes a login: spends the state, exchanges the code, validates the ID token. */
int srv_oidc_finish(srv_oidc *o, const char *code, const char *state, srv_identity *out,
                    er_error *err);

/* ---- ratelimit.c ---- */
/* 0: allowed; 1: over the limit (*retry_after_s set).  Fails open when the cache does. */
int srv_ratelimit(srv *s, const char *who, const char *endpoint, int *retry_after_s);

/* ---- metrics.c ---- */
int srv_metrics_new(srv_metrics **out);
void srv_metrics_free(srv_metrics *m);
/* route: index into srv_routes, or srv_nroutes for "no route". */
void srv_metrics_observe(srv_metrics *m, size_t route, int status, int64_t micros);
void srv_metrics_ws(srv_metrics *m, int delta);
void srv_metrics_render(srv *s, er_buf *out);

/* ---- openapi.c ---- */
char *srv_openapi_build(void); /* OWNED JSON text */

/* ---- hub.c ---- */
/* Something events are delivered to (a WebSocket connection).  deliver runs on
 * a cache thread (or the publisher's) and must not block; added runs under the
 * hub's lock when a subscription is added, before any of its events. */
typedef struct srv_sink {
    void (*deliver)(struct srv_sink *sink, const char *msg, size_t len);
    void (*added)(struct srv_sink *sink, bool conv, const char *key);
} srv_sink;

int srv_hub_new(srv_hub **out, er_env *env, er_error *err);
void srv_hub_free(srv_hub *h);
/* Subscribes sink to a task tree (root id) or a conversation. */
int srv_hub_add(srv_hub *h, srv_sink *sink, bool conv, const char *key, er_error *err);
void srv_hub_remove(srv_hub *h, srv_sink *sink, bool conv, const char *key);
/* Every subscription of sink; no delivery to it is running when this returns. */
void srv_hub_remove_all(srv_hub *h, srv_sink *sink);

/* ---- static.c: the web interface ---- */
/* The directory served at / (server.web_root, else the installed one). */
const char *srv_static_root(const srv *s);
/* A path of only [A-Za-z0-9._-] segments, none empty or starting with '.'. */
bool srv_static_path_ok(const char *path);
/* A GET or HEAD no route took: a built file, or at / index.html or the
 * how-to-build page; 0 when the path names no file (then the 404). */
int srv_static_serve(srv_req *r);

/* ---- ws.c ---- */
void srv_ws_init(srv *s);
/* Closes every WebSocket (close frame, then the socket) and waits until their
 * threads are gone: before the daemon stops. */
void srv_ws_close_all(srv *s);
/* Closes (1008) the WebSockets opened by a user, with an API token or in a
 * session: kind "user", "token" or "session", as the auth changes name
 * them.  Returns how many. */
int srv_ws_close_for(srv *s, const char *kind, const char *id);
void srv_ws_free(srv *s);
/* GET /ws with Upgrade: websocket: checks Origin and the token, then sets
 * r->upgrade (or replies 401/403). */
int srv_ws_upgrade(srv_req *r);

/* ---- wsframe.c ---- */
typedef struct srv_wsframe {
    int opcode; /* 1 text, 2 binary, 8 close, 9 ping, 10 pong */
    bool fin;
    er_buf payload; /* unmasked */
} srv_wsframe;
/* Reads one client frame (it must be masked) from fd, first from *pending
 * (bytes read ahead: MHD's extra_in); ER_ETOOBIG past max, ER_EPROTO on a bad
 * frame, ER_EUNAVAIL when the peer is gone, ER_ETIMEDOUT after idle_ms. */
int srv_ws_read_frame(int fd, er_buf *pending, size_t max, int idle_ms, srv_wsframe *out);
/* Writes one unmasked server frame in a single send; 0 or ER_EUNAVAIL. */
int srv_ws_write_frame(int fd, int opcode, const void *data, size_t len);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (out: 29 bytes + NUL). */
void srv_ws_accept_key(const char *key, char out[32]);

/* ---- submit.c: group commit of chat submissions ---- */
void srv_batch_start(srv *s);
/* Finishes what is queued (resuming its requests), then stops. */
void srv_batch_stop(srv *s);
/* Queues a chat for the next batch and suspends the request; the batch
 * replies 202 (or the error) and resumes it.  sub's strings must live as long
 * as the request (they point into its body). */
void srv_batch_submit(srv_req *r, const er_submit *sub);

/* ---- handlers (routes_*.c) ---- */
int srv_route_chat(srv_req *r);
int srv_route_tasks_list(srv_req *r);
int srv_route_task_get(srv_req *r);
int srv_route_task_cancel(srv_req *r);
int srv_route_convs_list(srv_req *r);
int srv_route_conv_get(srv_req *r);
/* routes_usage.c: what a user's LLM requests used and cost */
int srv_route_usage(srv_req *r);
/* routes_mcp.c: errand as an MCP server over Streamable HTTP */
int srv_route_mcp(srv_req *r);
/* routes_files.c: an image from the requester's own workspace */
int srv_route_file_get(srv_req *r);

/* routes_memory.c: a user's own memories and the shared ones */
int srv_route_memory_list(srv_req *r);
int srv_route_memory_add(srv_req *r);
int srv_route_memory_get(srv_req *r);
int srv_route_memory_forget(srv_req *r);
/* routes_graph.c: the memory graph a user sees (their own and the shared) */
int srv_route_memory_graph(srv_req *r);
int srv_route_memory_entity(srv_req *r);
int srv_route_agents_list(srv_req *r);
int srv_route_agent_config_get(srv_req *r);
int srv_route_agent_config_put(srv_req *r);
int srv_route_auth_token(srv_req *r);
int srv_route_auth_refresh(srv_req *r);
int srv_route_auth_logout(srv_req *r);
int srv_route_auth_me(srv_req *r);
int srv_route_oidc_login(srv_req *r);
int srv_route_oidc_callback(srv_req *r);
int srv_route_healthz(srv_req *r);
int srv_route_readyz(srv_req *r);
int srv_route_metrics(srv_req *r);
int srv_route_openapi(srv_req *r);
int srv_route_ws(srv_req *r);
int srv_route_openai_chat(srv_req *r);
int srv_route_openai_models(srv_req *r);
/* The open streams of POST /v1/chat/completions: set up before the daemon
 * starts; ended (each gets an error and [DONE], and is resumed) before the
 * daemon stops, since it must not stop with a connection suspended; freed
 * after it stopped. */
void srv_openai_init(srv *s);
void srv_openai_end_streams(srv *s);
void srv_openai_free(srv *s);

/* ---- tasks.c: shared by the task routes and ws.c ---- */
/* A task the user may see (ER_ENOTFOUND otherwise, also for tasks of others).
 * out released with er_task_release. */
int srv_task_visible(srv *s, const srv_user *u, const char *id, er_task *out, er_error *err);
/* A chat's agent exists (ER_EINVAL), the user is under
 * server.max_tasks_per_user (ER_EBUDGET: 429) and its conversation, when
 * given, is the user's (ER_ENOTFOUND). */
int srv_chat_check(srv *s, const srv_user *u, const char *conv_id, const char *agent,
                   er_error *err);
/* Submits a chat message for u; fills task and conversation ids. */
int srv_chat_submit(srv *s, const srv_user *u, const char *message, const char *conv_id,
                    const char *agent, const char *task_id, char task_out[ER_ID_LEN],
                    char conv_out[ER_ID_LEN], er_error *err);
/* A stored event as the JSON object the cache publishes. OWNED. */
cJSON *srv_event_json(const er_event *e, const char *root);

#endif
