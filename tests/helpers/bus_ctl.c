/* bus_ctl.c — a small bus client for the networked end-to-end tests: start
 * from empty queues, publish a raw (poison) message, read a queue's depth and
 * consumers.  It goes through the bus seam, so it works on any bus URL.
 *
 *   bus_ctl URL purge                        empty every queue of the topology
 *   bus_ctl URL publish EXCHANGE KEY BODY    publish BODY as it is (exchange "" = queue KEY)
 *   bus_ctl URL info QUEUE                   print "DEPTH CONSUMERS"
 *   bus_ctl URL wait QUEUE CONSUMERS SECONDS wait until QUEUE has at least CONSUMERS
 *                                            consumers (exit 1 on timeout)
 * Exit status: 0 ok, 1 failed (message on stderr), 2 usage. */
#include "errand/bus.h"
#include "errand/str.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int usage(void)
{
    fprintf(stderr, "usage: bus_ctl URL purge | publish EXCHANGE KEY BODY | info QUEUE | "
                    "wait QUEUE CONSUMERS SECONDS\n");
    return 2;
}

static int fail(const er_error *err)
{
    fprintf(stderr, "bus_ctl: %s\n", err->msg);
    return 1;
}

static int purge_all(er_bus *bus, er_error *err)
{
    for (size_t i = 0; i < er_bus_nbindings; i++) {
        int rc = er_bus_purge(bus, er_bus_bindings[i].queue, NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int wait_consumers(er_bus *bus, const char *queue, const char *want_s, const char *secs_s,
                          er_error *err)
{
    long want, secs;
    if (er_str_to_long(want_s, &want) || er_str_to_long(secs_s, &secs))
        return er_error_set(err, ER_EINVAL, "CONSUMERS and SECONDS must be numbers");
    int64_t deadline = er_mono_ms() + secs * 1000;
    for (;;) {
        long depth, consumers;
        int rc = er_bus_queue_info(bus, queue, &depth, &consumers, err);
        if (rc)
            return rc;
        if (consumers >= want)
            return 0;
        if (er_mono_ms() >= deadline)
            return er_error_set(err, ER_ETIMEDOUT, "'%s' has %ld consumers after %ld s, not %ld",
                                queue, consumers, secs, want);
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

static int run(er_bus *bus, int argc, char **argv, er_error *err)
{
    const char *what = argv[2];
    if (strcmp(what, "purge") == 0 && argc == 3)
        return purge_all(bus, err);
    if (strcmp(what, "publish") == 0 && argc == 6)
        return er_bus_publish(bus, argv[3], argv[4], argv[5], strlen(argv[5]), err);
    if (strcmp(what, "info") == 0 && argc == 4) {
        long depth, consumers;
        int rc = er_bus_queue_info(bus, argv[3], &depth, &consumers, err);
        if (!rc)
            printf("%ld %ld\n", depth, consumers);
        return rc;
    }
    if (strcmp(what, "wait") == 0 && argc == 6)
        return wait_consumers(bus, argv[3], argv[4], argv[5], err);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    er_error err = { 0 };
    er_bus *bus;
    if (er_bus_open(&bus, argv[1], &err))
        return fail(&err);
    int rc = run(bus, argc, argv, &err);
    er_bus_close(bus);
    if (rc == -1)
        return usage();
    return rc ? fail(&err) : 0;
}
