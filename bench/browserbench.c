/* browserbench.c — the browser seam's latencies against Debian's Chromium
 * (figures for README, not a test): start to ready, and per-command round
 * trips — a raw click (Runtime.evaluate calling click()), the browser_click
 * tool's action (find, wait until visible and stable, click), typing, an
 * evaluate, a viewport screenshot — plus the browser's memory.
 *
 *   errand_browserbench [N]      (bench/run.sh; N commands of each kind, default 200)
 *
 * The page is written into about:blank with script: no server, no network. */
#include "errand/alloc.h"
#include "errand/browser.h"
#include "errand/json.h"
#include "errand/str.h"
#include "../src/tools/browser_js.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("  %-34s p50 %7.3f ms   p95 %7.3f ms   p99 %7.3f ms\n", what, ms[n / 2],
           ms[n * 95 / 100], ms[n * 99 / 100]);
}

static int bench(er_browser *b, const char *what, const char *expr, int n)
{
    double *ms = calloc((size_t)n, sizeof *ms);
    er_error err = { 0 };
    for (int i = 0; i < n; i++) {
        uint64_t t0 = er_mono_ns();
        cJSON *v = NULL;
        if (er_browser_eval(b, expr, &v, &err) != 0 || er_json_str(v, "error")) {
            fprintf(stderr, "%s: %s\n", what, err.msg[0] ? err.msg : "the page reported an error");
            cJSON_Delete(v);
            free(ms);
            return 1;
        }
        cJSON_Delete(v);
        ms[i] = (double)(er_mono_ns() - t0) / 1e6;
    }
    report(what, ms, n);
    free(ms);
    return 0;
}

/* pid's parent and process group, from /proc/PID/stat. */
static bool stat_of(long pid, long *ppid, long *pgrp)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    bool ok = f && fgets(line, sizeof line, f);
    if (f)
        fclose(f);
    const char *close = ok ? strrchr(line, ')') : NULL;
    return close && sscanf(close + 2, "%*c %ld %ld", ppid, pgrp) == 2;
}

/* Proportional set size (shared pages split between their users) of our
 * browser's process group (Chromium and its helpers: the backend starts it
 * as a group of its own), in MB. */
static double browser_rss_mb(void)
{
    long me = (long)getpid(), group = 0, ppid, pgrp, pid;
    double kb = 0;
    for (int pass = 0; pass < 2; pass++) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (er_str_to_long(e->d_name, &pid) != 0 || !stat_of(pid, &ppid, &pgrp))
                continue;
            if (pass == 0 && ppid == me && pgrp == pid)
                group = pid; /* our child leading its own group: the browser */
            if (pass == 1 && group && pgrp == group) {
                char path[64], line[256];
                snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", pid);
                FILE *f = fopen(path, "r");
                long rss = 0;
                while (f && fgets(line, sizeof line, f))
                    if (sscanf(line, "Pss: %ld", &rss) == 1)
                        kb += (double)rss;
                if (f)
                    fclose(f);
            }
        }
        if (d)
            closedir(d);
    }
    return kb / 1024;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 10)
        n = 10;
    er_error err = { 0 };
    er_browser *b = NULL;
    er_browser_opts o = { .headless = true };
    uint64_t t0 = er_mono_ns();
    if (er_browser_open(&b, &o, &err) != 0) {
        fprintf(stderr, "browserbench: %s\n", err.msg);
        return 1;
    }
    double start_ms = (double)(er_mono_ns() - t0) / 1e6;
    cJSON *v = NULL;
    if (er_browser_eval(b,
                        "document.body.innerHTML = '<button id=\"b\" onclick=\"this.n = "
                        "(this.n || 0) + 1\">Press</button><input id=\"t\">'; 1",
                        &v, &err)) {
        fprintf(stderr, "browserbench: %s\n", err.msg);
        return 1;
    }
    cJSON_Delete(v);
    printf("browser (chromium, DevTools Protocol), %d commands each:\n", n);
    printf("  %-34s %7.1f ms\n", "start to ready (page attached)", start_ms);
    int rc = bench(b, "raw click (evaluate click())", "document.getElementById('b').click()", n);
    char *tool_click = er_xasprintf("%s({\"selector\":\"#b\",\"timeout\":2000})", bjs_click);
    char *tool_type =
        er_xasprintf("%s({\"selector\":\"#t\",\"value\":\"hello\",\"timeout\":2000})", bjs_type);
    rc |= bench(b, "browser_click action (wait+click)", tool_click, n);
    rc |= bench(b, "browser_type action", tool_type, n);
    rc |= bench(b, "evaluate 1+1", "1+1", n);
    double *ms = calloc((size_t)(n / 4), sizeof *ms);
    er_buf png = ER_BUF_INIT;
    for (int i = 0; i < n / 4 && rc == 0; i++) {
        er_buf_reset(&png);
        uint64_t s0 = er_mono_ns();
        rc |= er_browser_screenshot(b, false, &png, &err) != 0;
        ms[i] = (double)(er_mono_ns() - s0) / 1e6;
    }
    if (rc == 0)
        report("screenshot (1024x768 PNG)", ms, n / 4);
    printf("  %-34s %7.1f MB\n", "browser PSS (all its processes)", browser_rss_mb());
    er_buf_release(&png);
    free(ms);
    free(tool_click);
    free(tool_type);
    er_browser_close(b);
    return rc;
}
