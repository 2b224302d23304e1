/* metrics.c — /metrics in the Prometheus text format (version 0.0.4):
 * requests by route and status, a latency histogram per route, open
 * WebSockets, and, read at scrape time, tasks by status and queue depths.
 *
 * Request counters are lock-free atomics in fixed arrays (one row per route of
 * the table plus one for unmatched requests), so observing costs a few
 * relaxed increments on the request path. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/bus.h"

#include <stdio.h>
#include <stdlib.h>

static const int statuses[] = { 101, 200, 201, 202, 204, 302, 400, 401, 403, 404, 405,
                                408, 409, 413, 415, 426, 429, 500, 502, 503, 504 };
#define NSTATUS (ER_ARRAY_LEN(statuses) + 1) /* + "other" */

static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  10 };
#define NBUCKET (ER_ARRAY_LEN(bounds) + 1) /* + Inf */

typedef struct route_stats {
    atomic_uint_fast64_t by_status[NSTATUS];
    atomic_uint_fast64_t bucket[NBUCKET]; /* not cumulative; summed when rendered */
    atomic_uint_fast64_t sum_us;
} route_stats;

struct srv_metrics {
    route_stats *routes; /* srv_nroutes + 1 */
    atomic_int ws_open;
};

int srv_metrics_new(srv_metrics **out)
{
    srv_metrics *m = er_xcalloc(1, sizeof *m);
    m->routes = er_xcalloc(srv_nroutes + 1, sizeof *m->routes);
    *out = m;
    return 0;
}

void srv_metrics_free(srv_metrics *m)
{
    if (!m)
        return;
    free(m->routes);
    free(m);
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(statuses); i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

void srv_metrics_observe(srv_metrics *m, size_t route, int status, int64_t micros)
{
    if (route > srv_nroutes)
        route = srv_nroutes;
    route_stats *rs = &m->routes[route];
    atomic_fetch_add_explicit(&rs->by_status[status_index(status)], 1, memory_order_relaxed);
    double secs = (double)micros / 1e6;
    size_t b = 0;
    while (b < ER_ARRAY_LEN(bounds) && secs > bounds[b])
        b++;
    atomic_fetch_add_explicit(&rs->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rs->sum_us, (uint_fast64_t)(micros > 0 ? micros : 0),
                              memory_order_relaxed);
}

void srv_metrics_ws(srv_metrics *m, int delta)
{
    atomic_fetch_add(&m->ws_open, delta);
}

static const char *route_label(size_t i)
{
    return i < srv_nroutes ? srv_routes[i].name : "none";
}

static void render_requests(srv_metrics *m, er_buf *out)
{
    er_buf_puts(out, "# HELP errand_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE errand_http_requests_total counter\n");
    for (size_t i = 0; i <= srv_nroutes; i++) {
        for (size_t k = 0; k < NSTATUS; k++) {
            uint64_t n = atomic_load_explicit(&m->routes[i].by_status[k], memory_order_relaxed);
            if (!n)
                continue;
            char code[8];
            if (k < ER_ARRAY_LEN(statuses))
                snprintf(code, sizeof code, "%d", statuses[k]);
            else
                snprintf(code, sizeof code, "other");
            er_buf_printf(out, "errand_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                          route_label(i), code, (unsigned long long)n);
        }
    }
}

static void render_latency(srv_metrics *m, er_buf *out)
{
    er_buf_puts(out, "# HELP errand_http_request_duration_seconds Time to answer a request.\n"
                     "# TYPE errand_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= srv_nroutes; i++) {
        route_stats *rs = &m->routes[i];
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKET; b++) {
            cum += atomic_load_explicit(&rs->bucket[b], memory_order_relaxed);
            if (b < ER_ARRAY_LEN(bounds))
                er_buf_printf(
                    out,
                    "errand_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    route_label(i), bounds[b], (unsigned long long)cum);
            else
                er_buf_printf(
                    out,
                    "errand_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                    route_label(i), (unsigned long long)cum);
        }
        er_buf_printf(out, "errand_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                      route_label(i),
                      (double)atomic_load_explicit(&rs->sum_us, memory_order_relaxed) / 1e6);
        er_buf_printf(out, "errand_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                      route_label(i), (unsigned long long)cum);
    }
}

static void render_tasks(srv *s, er_buf *out)
{
    er_store *st;
    int64_t counts[ER_TASK_CANCELLED + 1];
    if (er_env_store(s->env, &st, NULL) || er_store_task_counts(st, counts, NULL))
        return;
    er_buf_puts(out, "# HELP errand_tasks Tasks in the store by status.\n"
                     "# TYPE errand_tasks gauge\n");
    for (int i = 0; i <= ER_TASK_CANCELLED; i++)
        er_buf_printf(out, "errand_tasks{status=\"%s\"} %lld\n",
                      er_task_status_name((er_task_status)i), (long long)counts[i]);
}

static void render_queues(srv *s, er_buf *out)
{
    er_bus *bus;
    if (er_env_bus(s->env, &bus, NULL))
        return;
    er_buf depth = ER_BUF_INIT, cons = ER_BUF_INIT;
    for (const char *const *q = er_bus_queue_names(); *q; q++) {
        long d = -1, c = -1;
        if (er_bus_queue_info(bus, *q, &d, &c, NULL) != 0)
            continue;
        if (d >= 0)
            er_buf_printf(&depth, "errand_queue_depth{queue=\"%s\"} %ld\n", *q, d);
        if (c >= 0)
            er_buf_printf(&cons, "errand_queue_consumers{queue=\"%s\"} %ld\n", *q, c);
    }
    er_buf_puts(out, "# HELP errand_queue_depth Messages waiting in a queue.\n"
                     "# TYPE errand_queue_depth gauge\n");
    er_buf_puts(out, er_buf_cstr(&depth));
    er_buf_puts(out, "# HELP errand_queue_consumers Consumers attached to a queue.\n"
                     "# TYPE errand_queue_consumers gauge\n");
    er_buf_puts(out, er_buf_cstr(&cons));
    er_buf_release(&depth);
    er_buf_release(&cons);
}

void srv_metrics_render(srv *s, er_buf *out)
{
    render_requests(s->metrics, out);
    render_latency(s->metrics, out);
    er_buf_printf(out,
                  "# HELP errand_websockets_open Open WebSocket connections.\n"
                  "# TYPE errand_websockets_open gauge\nerrand_websockets_open %d\n",
                  atomic_load(&s->metrics->ws_open));
    render_tasks(s, out);
    render_queues(s, out);
}
