/* fake_bus.c — a bus backend that forwards to a real bus, counting calls and
 * failing the ones a test planned (fake_backends.h).  bus.c's retry and
 * dead-letter policy runs above it, as above any backend. */
#include "fake_backends.h"
#include "errand/alloc.h"
#include "errand/backend/bus_backend.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct fake_bus {
    er_bus base;
    er_bus_backend be; /* the template, local as the real bus is */
    er_bus *inner;
    fake *ctl;
} fake_bus;

static fake_bus *to_fake(er_bus *bus)
{
    return (fake_bus *)bus;
}

static void fb_close(er_bus *bus)
{
    fake_bus *fb = to_fake(bus);
    fb->inner->be->close(fb->inner); /* joins its consumers */
    fake_free(fb->ctl);
    free(fb);
}

static int fb_declare(er_bus *bus, er_error *err)
{
    fake_bus *fb = to_fake(bus);
    int rc = fake_hit(fb->ctl, "declare", "", err);
    return rc ? rc : fb->inner->be->declare(fb->inner, err);
}

static int fb_publish(er_bus *bus, const char *exchange, const char *key, const void *body,
                      size_t len, int attempts, er_error *err)
{
    fake_bus *fb = to_fake(bus);
    char text[256];
    snprintf(text, sizeof text, "%s %s", exchange, key);
    int rc = fake_hit(fb->ctl, "publish", text, err);
    return rc ? rc : fb->inner->be->publish(fb->inner, exchange, key, body, len, attempts, err);
}

/* Deliveries go straight to bus.c's dispatch: the raw handler is the real one. */
static int fb_consume(er_bus *bus, const char *queue, int concurrency, er_bus_raw_handler fn,
                      void *payload, er_error *err)
{
    fake_bus *fb = to_fake(bus);
    int rc = fake_hit(fb->ctl, "consume", queue, err);
    return rc ? rc : fb->inner->be->consume(fb->inner, queue, concurrency, fn, payload, err);
}

static void fb_stop(er_bus *bus)
{
    fake_bus *fb = to_fake(bus);
    fake_hit(fb->ctl, "stop", "", NULL);
    fb->inner->be->stop(fb->inner);
}

static int fb_queue_info(er_bus *bus, const char *queue, long *depth, long *consumers,
                         er_error *err)
{
    fake_bus *fb = to_fake(bus);
    int rc = fake_hit(fb->ctl, "queue_info", queue, err);
    return rc ? rc : fb->inner->be->queue_info(fb->inner, queue, depth, consumers, err);
}

static int fb_ping(er_bus *bus, er_error *err)
{
    fake_bus *fb = to_fake(bus);
    int rc = fake_hit(fb->ctl, "ping", "", err);
    return rc ? rc : fb->inner->be->ping(fb->inner, err);
}

static int fb_purge(er_bus *bus, const char *queue, long *purged, er_error *err)
{
    fake_bus *fb = to_fake(bus);
    int rc = fake_hit(fb->ctl, "purge", queue, err);
    return rc ? rc : fb->inner->be->purge(fb->inner, queue, purged, err);
}

static const er_bus_backend fake_bus_backend = {
    .version = ER_BUS_BACKEND_VERSION,
    .scheme = "fake",
    .close = fb_close,
    .declare = fb_declare,
    .publish = fb_publish,
    .consume = fb_consume,
    .stop = fb_stop,
    .queue_info = fb_queue_info,
    .ping = fb_ping,
    .purge = fb_purge,
};

void fake_bus_wrap(er_bus **out, er_bus *inner, fake **ctl_out)
{
    fake_bus *fb = er_xcalloc(1, sizeof *fb);
    fb->be = fake_bus_backend;
    fb->be.local = inner->be->version >= 2 && inner->be->local;
    fb->base.be = &fb->be;
    fb->inner = inner;
    fb->ctl = fake_new("bus");
    *ctl_out = fb->ctl;
    *out = &fb->base;
}
