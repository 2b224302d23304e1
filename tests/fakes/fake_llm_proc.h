/* fake_llm_proc.h — runs tests/fake_llm as a child process for a test and
 * reads back what it recorded.  Header-only (static functions) so any test
 * binary can include it: #include "fakes/fake_llm_proc.h".
 *
 * The binary is found through ERRAND_TEST_BIN (the build directory) and the
 * scripts through ERRAND_TEST_DATA; both are set by ctest. */
#ifndef ERRAND_TEST_FAKE_LLM_PROC_H
#define ERRAND_TEST_FAKE_LLM_PROC_H

#include "errand/json.h"
#include "errand/str.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct fake_llm_proc {
    pid_t pid;
    int port;
    char dir[64];
    char record[128];
    char port_file[128];
} fake_llm_proc;

static ER_UNUSED void fake_llm_nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Reads a whole small file (OWNED) or NULL. */
static ER_UNUSED char *fake_llm_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, n;
    char *s = malloc(cap);
    while (s && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap)
            s = realloc(s, cap *= 2);
    }
    fclose(f);
    if (s)
        s[len] = '\0';
    return s;
}

/* Waits (up to 10 s on a loaded machine) until a fake started as *pid has
 * written its port to port_file: 0 with *port set, or -1 when it exited
 * (*pid is then 0) or never did. */
static ER_UNUSED int fake_wait_port(pid_t *pid, const char *port_file, int *port)
{
    for (int i = 0; i < 1000; i++) {
        char *s = fake_llm_slurp(port_file);
        long p = 0;
        if (s && er_str_to_long(er_str_trim(s), &p) == 0 && p > 0) {
            free(s);
            *port = (int)p;
            return 0;
        }
        free(s);
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            return -1;
        }
        fake_llm_nap(10);
    }
    return -1;
}

/* Starts fake_llm on an ephemeral port with the script named relative to
 * ERRAND_TEST_DATA; api_key may be NULL.  Returns 0, or 77 when the binary or
 * data are not found (the test is then skipped), or -1. */
static ER_UNUSED int fake_llm_start(fake_llm_proc *f, const char *script, const char *api_key)
{
    const char *bin_dir = getenv("ERRAND_TEST_BIN"), *data = getenv("ERRAND_TEST_DATA");
    if (!bin_dir || !data)
        return 77;
    char bin[512], spath[512];
    snprintf(bin, sizeof bin, "%s/tests/fake_llm", bin_dir);
    snprintf(spath, sizeof spath, "%s/%s", data, script);
    if (access(bin, X_OK) != 0 || access(spath, R_OK) != 0)
        return 77;
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/errand-fake-llm-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->record, sizeof f->record, "%s/record.jsonl", f->dir);
    snprintf(f->port_file, sizeof f->port_file, "%s/port", f->dir);
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        const char *argv[12] = { bin,           "--script",   spath,      "--port", "0",
                                 "--port-file", f->port_file, "--record", f->record };
        if (api_key) {
            argv[9] = "--api-key";
            argv[10] = api_key;
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    return fake_wait_port(&f->pid, f->port_file, &f->port);
}

static ER_UNUSED void fake_llm_stop(fake_llm_proc *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        int i = 0;
        while (waitpid(f->pid, NULL, WNOHANG) == 0 && i++ < 500)
            fake_llm_nap(10);
        if (i > 500) {
            kill(f->pid, SIGKILL);
            waitpid(f->pid, NULL, 0);
        }
        f->pid = 0;
    }
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->port_file);
    unlink(tmp);
    unlink(f->port_file);
    unlink(f->record);
    rmdir(f->dir);
}

/* The recorded requests whose raw body contains match, as a JSON array
 * (OWNED).  The fake writes a record once its answer is out, so this waits
 * (up to 5 s) until at least `want` of them are there. */
static ER_UNUSED cJSON *fake_llm_records(const fake_llm_proc *f, const char *match, int want)
{
    for (int tries = 0;; tries++) {
        cJSON *arr = cJSON_CreateArray();
        char *text = fake_llm_slurp(f->record);
        for (char *line = text, *nl; line && *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl)
                break;
            *nl = '\0';
            cJSON *j = cJSON_Parse(line);
            char *body = j ? er_json_print(cJSON_GetObjectItem(j, "body")) : NULL;
            if (j && (!match || (body && strstr(body, match))))
                er_json_append(arr, j);
            else
                cJSON_Delete(j);
            free(body);
        }
        free(text);
        if (cJSON_GetArraySize(arr) >= want || tries >= 500)
            return arr;
        cJSON_Delete(arr);
        fake_llm_nap(10);
    }
}

/* The last recorded request matching match (OWNED), or NULL. */
static ER_UNUSED cJSON *fake_llm_last_record(const fake_llm_proc *f, const char *match)
{
    cJSON *arr = fake_llm_records(f, match, 1);
    int n = cJSON_GetArraySize(arr);
    cJSON *rec = n ? cJSON_DetachItemFromArray(arr, n - 1) : NULL;
    cJSON_Delete(arr);
    return rec;
}

/* A port nobody listens on (bound, then released), for "connection refused". */
static ER_UNUSED int fake_llm_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

#endif
