/* launch.h — what every browser backend does around its protocol: a browser
 * process in its own process group with a temporary profile, and the checks
 * each request of the page passes (the SSRF guard, browser_block's lists).
 * Internal to src/browser/.
 *
 * Threads: an er_browser_proc belongs to the browser's user; an
 * er_browser_filter is read by the protocol's reader thread and written by
 * the user, under its own lock. */
#ifndef ERRAND_BROWSER_LAUNCH_H
#define ERRAND_BROWSER_LAUNCH_H

#include "errand/common.h"
#include "errand/error.h"
#include "errand/buf.h"
#include "errand/netguard.h"
#include "errand/browser_limits.h"

#include <cjson/cJSON.h>

#include <pthread.h>
#include <sys/types.h>

typedef struct er_browser_proc {
    pid_t pid;  /* also the process group's id; 0 before spawn */
    int status; /* wait status once reaped */
    bool reaped;
    char *profile;            /* OWNED: the temporary profile directory */
    char *log;                /* OWNED: the browser's stdout and stderr, inside the profile */
    er_browser_limits limits; /* its memory and processes; set by er_browser_proc_limit */
} er_browser_proc;

/* The first of candidates (NULL-terminated) that is executable, or given
 * when set (NULL when it is not executable). */
const char *er_browser_find_binary(const char *given, const char *const *candidates);

/* Makes $TMPDIR/errand-NAME-XXXXXX (mode 0700) with a tmp/ inside it. */
int er_browser_proc_profile(er_browser_proc *p, const char *name, er_error *err);
/* The environment with TMPDIR inside the profile (so the browser's own
 * temporary files go with it), plus extra ("K=V", NULL-terminated; may be
 * NULL).  OWNED: er_browser_strv_free. */
char **er_browser_proc_env(const er_browser_proc *p, const char *const *extra);
void er_browser_strv_free(char **v);
/* Before spawn: bounds the browser's memory (bytes) and processes
 * (browser_limits.h; 0: none). */
void er_browser_proc_limit(er_browser_proc *p, uint64_t memory, long pids);
/* Starts argv[0] in its own process group, killed when errand dies, output
 * to p->log.  what names the browser in errors. */
int er_browser_proc_spawn(er_browser_proc *p, char *const *argv, char *const *envp,
                          const char *what, er_error *err);
bool er_browser_proc_exited(er_browser_proc *p);
/* The last non-blank line of the log (for an error message). */
void er_browser_proc_last_line(const er_browser_proc *p, char *out, size_t n);
/* SIGTERM to the group, up to 3 s, then SIGKILL; kills leftover helpers
 * (also those that left the group, through the limits' control group),
 * deletes the profile and frees what p holds.  Accepts a zeroed p. */
void er_browser_proc_release(er_browser_proc *p);

/* Whether the page may fetch url: data:, blob: and about: pass (made from
 * memory); anything else must be http/https and every address its host
 * resolves to must pass the guard. */
int er_browser_guard_url(const er_netguard *g, const char *url, er_error *err);

/* The base64 "data" of a browser's answer (a screenshot, a PDF) into out;
 * what and browser name them in errors. */
int er_browser_decode_data(const cJSON *answer, er_buf *out, const char *what, const char *browser,
                           er_error *err);

/* browser_block's lists. */
typedef struct er_browser_filter {
    pthread_mutex_t lock;
    char **patterns;
    size_t npatterns;
    char **types;
    size_t ntypes;
} er_browser_filter;

void er_browser_filter_init(er_browser_filter *f);
void er_browser_filter_release(er_browser_filter *f);
/* Replaces both lists with copies. */
void er_browser_filter_set(er_browser_filter *f, const char *const *patterns, size_t npatterns,
                           const char *const *types, size_t ntypes);
/* Whether url or its resource type (CDP's names: Document, Stylesheet,
 * Image, Media, Font, Script, XHR, Fetch, WebSocket, Other; NULL: unknown)
 * is blocked.  fetch and xhr block each other: engines disagree on which a
 * fetch() is. */
bool er_browser_filter_blocks(er_browser_filter *f, const char *url, const char *type);

#endif
