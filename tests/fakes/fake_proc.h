/* fake_proc.h — runs one of the fakes under tests/fakes (fake_site,
 * fake_search, …) as a child process on an ephemeral port of 127.0.0.1.
 * Header-only so any test binary can include it: #include "fakes/fake_proc.h".
 * The binaries are found through ERRAND_TEST_BIN (ctest sets it). */
#ifndef ERRAND_TEST_FAKE_PROC_H
#define ERRAND_TEST_FAKE_PROC_H

#include "fake_llm_proc.h"

/* The same handle as fake_llm's: a child, its port and its files. */
typedef fake_llm_proc fake_proc;

/* Starts ERRAND_TEST_BIN/tests/NAME with args (NULL-terminated) and
 * --port 0 --port-file … --record DIR/record.  0, 77 (binary missing: skip) or -1. */
static ER_UNUSED int fake_proc_start(fake_proc *f, const char *name, const char *const *args)
{
    const char *bin_dir = getenv("ERRAND_TEST_BIN");
    char bin[512];
    if (!bin_dir)
        return 77;
    snprintf(bin, sizeof bin, "%s/tests/%s", bin_dir, name);
    if (access(bin, X_OK) != 0)
        return 77;
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/errand-fake-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->port_file, sizeof f->port_file, "%s/port", f->dir);
    snprintf(f->record, sizeof f->record, "%s/record", f->dir);
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        const char *argv[32] = { bin,          "--port",   "0",      "--port-file",
                                 f->port_file, "--record", f->record };
        int n = 7;
        for (int i = 0; args && args[i] && n < 31; i++)
            argv[n++] = args[i];
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    return fake_wait_port(&f->pid, f->port_file, &f->port);
}

/* Stops the fake (SIGTERM, then SIGKILL after 5 s) and removes its files. */
static ER_UNUSED void fake_proc_stop(fake_proc *f)
{
    fake_llm_stop(f);
}

#endif
