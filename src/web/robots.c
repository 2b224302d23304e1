/* robots.c — robots.txt (RFC 9309) and the per-origin politeness delay.
 *
 * Each origin's robots.txt is fetched once (through the same guarded path as
 * pages, without the politeness wait) and kept in this process and in the
 * cache (web:robots:{sha256(origin)}): 4xx means everything is allowed, 5xx
 * that nothing is, as the RFC says; an origin that cannot be reached at all
 * (or that the SSRF guard refuses) is let through this once — the page fetch
 * then reports why it failed — and nothing is remembered for it. */
#include "errand/webfetch.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/digest.h"
#include "errand/str.h"
#include "web_fetch_int.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ORIGINS_MAX   256
#define ROBOTS_MAX    (500 * 1024) /* RFC 9309: at least 500 KiB are read */
#define ROBOTS_TTL_MS (24LL * 3600 * 1000)

/* ---- the rules ---- */

/* Does pattern (with * and a final $) match the start of path (all of it with $)? */
static bool pattern_matches(const char *pat, size_t plen, const char *path)
{
    bool anchored = plen && pat[plen - 1] == '$';
    if (anchored)
        plen--;
    const char *star_p = NULL, *star_s = NULL;
    size_t i = 0;
    const char *s = path;
    while (i < plen || (anchored && *s)) {
        if (i < plen && pat[i] == '*') {
            star_p = pat + ++i;
            star_s = s;
            continue;
        }
        if (i == plen && !anchored)
            return true;
        if (i < plen && *s && pat[i] == *s) {
            i++;
            s++;
            continue;
        }
        if (!star_p || !*star_s)
            return false;
        i = (size_t)(star_p - pat);
        s = ++star_s;
    }
    return true;
}

typedef struct verdict {
    size_t best; /* length of the longest matching pattern + 1, 0: none */
    bool allow;
} verdict;

static void apply_rule(verdict *v, bool allow, const char *pat, const char *path)
{
    size_t n = strlen(pat);
    if (!n || !pattern_matches(pat, n, path))
        return;
    if (n + 1 > v->best || (n + 1 == v->best && allow)) {
        v->best = n + 1;
        v->allow = allow;
    }
}

/* One line as "key" and "value" (comments and blanks trimmed); false for none. */
static bool split_line(char *line, char **key, char **value)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *colon = strchr(line, ':');
    if (!colon)
        return false;
    *colon = '\0';
    *key = er_str_trim(line);
    *value = er_str_trim(colon + 1);
    return **key != '\0';
}

/* Applies the rules of the groups for `agent` (match 1) or for "*" (match 2). */
static void read_groups(const char *robots, const char *agent, const char *path, int match,
                        verdict *v, bool *found)
{
    char *copy = er_xstrdup(robots), *save = NULL;
    bool in_agents = false, mine = false;
    for (char *line = strtok_r(copy, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *key, *value;
        if (!split_line(line, &key, &value))
            continue;
        if (strcasecmp(key, "user-agent") == 0) {
            if (!in_agents)
                mine = false; /* a new group starts */
            in_agents = true;
            bool hit = match == 1 ? strcasecmp(value, agent) == 0 : strcmp(value, "*") == 0;
            mine |= hit;
            *found |= hit;
            continue;
        }
        in_agents = false;
        if (!mine)
            continue;
        if (strcasecmp(key, "allow") == 0)
            apply_rule(v, true, value, path);
        else if (strcasecmp(key, "disallow") == 0)
            apply_rule(v, false, value, path);
    }
    free(copy);
}

bool er_robots_allows(const char *robots, const char *agent, const char *path)
{
    verdict v = { 0, true };
    bool found = false;
    const char *p = er_str_empty(path) ? "/" : path;
    read_groups(robots ? robots : "", agent, p, 1, &v, &found);
    if (!found)
        read_groups(robots ? robots : "", agent, p, 2, &v, &found);
    return v.best == 0 || v.allow;
}

/* ---- per-origin state of this process ---- */

typedef struct origin {
    char name[300];
    char *robots; /* the rules, "" for allow-all, NULL: not fetched yet */
    bool deny_all;
    int64_t robots_until; /* er_mono_ms() */
    int64_t next_fetch;   /* er_mono_ms() the next fetch may start */
} origin;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static origin origins[ORIGINS_MAX];
static size_t norigins;

static origin *origin_get(const char *name)
{
    for (size_t i = 0; i < norigins; i++)
        if (strcmp(origins[i].name, name) == 0)
            return &origins[i];
    size_t slot = norigins < ORIGINS_MAX ? norigins++ : (size_t)(er_mono_ns() % ORIGINS_MAX);
    origin *o = &origins[slot];
    free(o->robots);
    memset(o, 0, sizeof *o);
    er_strlcpy(o->name, name, sizeof o->name);
    return o;
}

void er_web_reset(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < norigins; i++)
        free(origins[i].robots);
    memset(origins, 0, sizeof origins);
    norigins = 0;
    pthread_mutex_unlock(&lock);
}

int web_politeness_wait(const char *url, const er_web_opts *o, er_error *err)
{
    char name[300];
    web_origin(url, name, sizeof name, NULL);
    pthread_mutex_lock(&lock);
    origin *org = origin_get(name);
    int64_t now = er_mono_ms(), start = org->next_fetch > now ? org->next_fetch : now;
    org->next_fetch = start + o->delay_ms; /* reserve the slot before waiting */
    pthread_mutex_unlock(&lock);
    while (er_mono_ms() < start) {
        if (o->cancel && *o->cancel)
            return er_error_set(err, ER_ECANCELLED, "fetch of '%s' cancelled", url);
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* ---- fetching robots.txt ---- */

/* The rules text (OWNED; "" allows all); *deny_all for a 5xx answer.
 * *answered is false when no HTTP answer came (refused by the guard,
 * unreachable): such a verdict is not remembered. */
static char *fetch_robots(const char *origin_url, const er_web_opts *o, bool *deny_all,
                          bool *answered)
{
    char *url = er_xasprintf("%s/robots.txt", origin_url);
    web_raw r;
    er_error e = { 0 };
    int rc = web_fetch_raw(&r, url, o, ROBOTS_MAX, &e);
    char *rules = er_xstrdup("");
    *deny_all = false;
    *answered = rc == 0;
    if (rc == 0 && r.status >= 200 && r.status < 300) {
        free(rules);
        rules = er_xstrndup(r.body.ptr ? r.body.ptr : "", r.body.len);
    } else if (rc == 0 && r.status >= 500) {
        *deny_all = true;
    }
    web_raw_release(&r);
    free(url);
    return rules;
}

static char *robots_cache_key(const char *origin_url)
{
    char hex[65];
    if (er_sha256_hex(origin_url, strlen(origin_url), hex, NULL))
        return NULL;
    return er_xasprintf("web:robots:%s", hex);
}

/* The rules of an origin from the cache seam, or fetched and stored there. */
static char *shared_robots(const char *origin_url, const er_web_opts *o, bool *deny_all,
                           bool *answered)
{
    char *key = o->cache ? robots_cache_key(origin_url) : NULL;
    char *val = NULL;
    if (key && er_cache_get(o->cache, key, &val, NULL, NULL) == 0) {
        *deny_all = val[0] == '!'; /* "!" marks a site whose robots.txt failed with 5xx */
        if (*deny_all)
            val[0] = '\0';
        *answered = true;
        free(key);
        return val;
    }
    char *rules = fetch_robots(origin_url, o, deny_all, answered);
    if (key && *answered) {
        char *stored = *deny_all ? er_xstrdup("!") : er_xstrdup(rules);
        er_cache_set(o->cache, key, stored, strlen(stored), ROBOTS_TTL_MS, NULL);
        free(stored);
    }
    free(key);
    return rules;
}

int er_web_robots_check(const char *url, const er_web_opts *o, er_error *err)
{
    char name[300];
    const char *path = NULL;
    web_origin(url, name, sizeof name, &path);
    pthread_mutex_lock(&lock);
    origin *org = origin_get(name);
    bool known = org->robots && org->robots_until > er_mono_ms();
    pthread_mutex_unlock(&lock);
    if (!known) {
        bool deny = false, answered = false;
        char *rules = shared_robots(name, o, &deny, &answered);
        pthread_mutex_lock(&lock);
        org = origin_get(name);
        free(org->robots);
        org->robots = rules;
        org->deny_all = deny;
        /* no answer (refused, unreachable): let the page fetch say why, and ask again next time */
        org->robots_until = answered ? er_mono_ms() + ROBOTS_TTL_MS : 0;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    org = origin_get(name);
    bool ok = !org->deny_all && er_robots_allows(org->robots, ER_WEB_ROBOTS_TOKEN, path);
    pthread_mutex_unlock(&lock);
    if (ok)
        return 0;
    return er_error_set(err, ER_EDENIED, "robots.txt of %s does not allow errand to fetch '%s'",
                        name, url);
}
