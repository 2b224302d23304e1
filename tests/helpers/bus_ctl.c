/* bus_ctl.c — a small bus client for the networked end-to-end tests: start
 * from empty queues, publish a raw (poison) message, read a queue's depth and
 * consumers.  It goes through the bus seam, so it works on any bus URL.
 *
 *   bus_ctl URL purge                        empty every queue of the topology
 *   bus_ctl URL publish EXCHANGE KEY BODY    publish BODY as it is (exchange "" = queue KEY)
 *   bus_ctl URL info QUEUE                   print "DEPTH CONSUMERS"
 *   bus_ctl URL consumers                    print the consumers of all queues together
 * Exit status: 0 ok, 1 failed (message on stderr), 2 usage. */
#include "errand/bus.h"
#include "errand/str.h"

#include <stdio.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: bus_ctl URL purge | publish EXCHANGE KEY BODY | info QUEUE | "
                    "consumers\n");
    return 2;
}

static int fail(const er_error *err)
{
    fprintf(stderr, "bus_ctl: %s\n", err->msg);
    return 1;
}

static int purge_all(er_bus *bus, er_error *err)
{
    for (const char *const *q = er_bus_queue_names(); *q; q++) {
        int rc = er_bus_purge(bus, *q, NULL, err);
        if (rc)
            return rc;
    }
    return 0;
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
    if (strcmp(what, "consumers") == 0 && argc == 3) {
        long total = 0;
        for (const char *const *q = er_bus_queue_names(); *q; q++) {
            long depth, consumers;
            int rc = er_bus_queue_info(bus, *q, &depth, &consumers, err);
            if (rc)
                return rc;
            total += consumers;
        }
        printf("%ld\n", total);
        return 0;
    }
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
