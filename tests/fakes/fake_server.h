/* fake_server.h — what the small CivetWeb fakes (fake_site, fake_search)
 * share: the port file a test waits for, and running until SIGTERM/SIGINT.
 * Header-only: every tests/fakes/ C file becomes a program. */
#ifndef ERRAND_TEST_FAKE_SERVER_H
#define ERRAND_TEST_FAKE_SERVER_H

#include "errand/alloc.h"

#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t fake_stopping;

static void fake_on_stop(int sig)
{
    (void)sig;
    fake_stopping = 1;
}

static void fake_nap(long ms)
{
    for (long left = ms; left > 0 && !fake_stopping; left -= 20) {
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* The port the server listens on, written to port_file (NULL: none) whole:
 * through a temporary file and a rename. */
static int fake_publish_port(struct mg_context *ctx, const char *port_file)
{
    struct mg_server_port ports[1];
    if (mg_get_server_ports(ctx, 1, ports) < 1)
        return -1;
    if (port_file) {
        char *tmp = er_xasprintf("%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%d\n", ports[0].port);
            fclose(f);
            rename(tmp, port_file);
        }
        free(tmp);
    }
    return ports[0].port;
}

/* Blocks until SIGTERM or SIGINT, then stops the server. */
static void fake_serve_until_stopped(struct mg_context *ctx)
{
    signal(SIGTERM, fake_on_stop);
    signal(SIGINT, fake_on_stop);
    while (!fake_stopping)
        fake_nap(50);
    mg_stop(ctx);
}

#endif
