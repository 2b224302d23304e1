/* serve.h — what the command line needs from the server: run it, list its
 * routes, and issue API tokens (`errand user token`).
 *
 * The server itself (the files of server/) is a front end over liberrand, like the TUI:
 * libmicrohttpd for HTTP (WebSocket framing on its upgraded sockets is our
 * own), OpenSSL's libcrypto for tokens. */
#ifndef ERRAND_SERVE_H
#define ERRAND_SERVE_H

#include "errand/env.h"
#include "errand/error.h"

#include <stdio.h>

typedef struct srv_opts {
    const char *listen; /* NULL: server.listen */
    /* Called once the server listens, with its base URL; returns when the
     * server should stop (the CLI waits for SIGTERM or SIGINT in it). */
    void (*serve)(const char *url, void *payload);
    void *payload;
    long grace_s;    /* local mode: seconds running tasks may finish in at the stop */
    bool unfinished; /* out: a task did not stop even when interrupted */
} srv_opts;

/* Listens, calls o->serve, then stops cleanly: closes WebSockets, lets
 * requests in hand finish, stops the in-process workers: their tasks may
 * finish for o->grace_s, then they are interrupted (and go back to being
 * queued).  When one still runs 5 s later, o->unfinished is set and the
 * caller must leave without closing env (the process exits).  In local mode
 * it starts in-process workers (server.workers at once). */
int srv_run(er_env *env, srv_opts *o, er_error *err);

/* Prints the route table, one "METHOD PATH NAME" line per route. */
void srv_print_routes(FILE *out);

/* API tokens: "ert_" + 43 characters.  Issues one for user_id, stores only its
 * digest, and writes the token (shown once) into token_out. */
#define SRV_TOKEN_MAX 64
int srv_api_token_issue(er_store *st, const char *user_id, const char *label,
                        char token_out[SRV_TOKEN_MAX], char id_out[ER_ID_LEN], er_error *err);

#endif
