/* mailbench.c — errand's side of the mail benchmark (bench/mail.py): lists
 * the newest LIMIT messages of a folder through the mail seam, in process, as
 * mail_search does (search, flags and sizes, then the headers each summary
 * shows, decoded by GMime).
 *
 *   errand_mailbench ACCOUNT FOLDER LIMIT [--cached]
 *
 *   errand_mailbench --parse FILE...
 *
 * --parse: the MIME parse rate (er_mime_parse, as mail_read reads a message:
 * headers, text and HTML bodies, attachments) over the given messages, each
 * parsed again and again for about a second in all; prints {messages_per_s,
 * mb_per_s, files, bytes}.
 *
 * --cached: through the account's metadata cache, as the mail tools search
 * (the first run fills it; later runs refresh it incrementally and answer
 * from it): in errand's store, or with REDIS_URL set (networked mode) in
 * Redis (mail_cache.h).
 * The account is read from errand's configuration ([mail.ACCOUNT], its
 * password from the variable password_env names).  Prints one JSON object:
 * {seconds (wall time from connect to the last summary), count, unread,
 * newest_subject}. */
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/config.h"
#include "errand/env.h"
#include "errand/json.h"
#include "errand/mail.h"
#include "errand/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_rate(int argc, char **argv)
{
    size_t n = (size_t)argc - 2, bytes = 0;
    char **raw = er_xcalloc(n ? n : 1, sizeof *raw);
    size_t *len = er_xcalloc(n ? n : 1, sizeof *len);
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(argv[i + 2], "rb");
        if (!f) {
            fprintf(stderr, "errand_mailbench: cannot read %s\n", argv[i + 2]);
            return 1;
        }
        er_buf b = ER_BUF_INIT;
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
            er_buf_append(&b, chunk, got);
        fclose(f);
        len[i] = b.len;
        raw[i] = er_buf_detach(&b);
        bytes += len[i];
    }
    size_t parsed = 0, parsed_bytes = 0;
    double t0 = now(), t = 0;
    while (n && (t = now() - t0) < 1.0)
        for (size_t i = 0; i < n; i++) {
            cJSON *out = NULL;
            er_error err = { 0 };
            if (er_mime_parse(&out, raw[i], len[i], &err) != 0) {
                fprintf(stderr, "errand_mailbench: %s: %s\n", argv[i + 2], err.msg);
                return 1;
            }
            cJSON_Delete(out);
            parsed++;
            parsed_bytes += len[i];
        }
    printf("{\"messages_per_s\":%.0f,\"mb_per_s\":%.2f,\"files\":%zu,\"bytes\":%zu}\n",
           t > 0 ? (double)parsed / t : 0, t > 0 ? (double)parsed_bytes / t / 1e6 : 0, n, bytes);
    for (size_t i = 0; i < n; i++)
        free(raw[i]);
    free(raw);
    free(len);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--parse") == 0)
        return parse_rate(argc, argv);
    bool cached = argc == 5 && strcmp(argv[4], "--cached") == 0;
    if (argc != 4 && !cached) {
        fprintf(stderr, "usage: errand_mailbench ACCOUNT FOLDER LIMIT [--cached]\n");
        return 2;
    }
    er_error err = { 0 };
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    er_mail_account acct;
    if (er_config_load(cfg, NULL, &err) != 0 ||
        er_mail_account_resolve(&acct, cfg, argv[1], &err) != 0) {
        fprintf(stderr, "errand_mailbench: %s\n", err.msg);
        return 1;
    }
    er_env *env = NULL;
    if (cached && (er_env_new(&env, cfg, &err) != 0 || er_env_store(env, &acct.store, &err) != 0 ||
                   (cfg->redis_url && er_env_cache(env, &acct.cache, &err) != 0))) {
        fprintf(stderr, "errand_mailbench: %s\n", err.msg);
        return 1;
    }
    er_mail_query q = { .folder = argv[2], .limit = (size_t)strtoul(argv[3], NULL, 10) };
    double t0 = now();
    er_mail *m = NULL;
    er_mail_summary *v = NULL;
    size_t n = 0;
    int rc = er_mail_open(&m, &acct, &err);
    if (!rc)
        rc = er_mail_search(m, &q, &v, &n, &err);
    double t = now() - t0;
    if (rc) {
        fprintf(stderr, "errand_mailbench: %s\n", err.msg);
        return 1;
    }
    size_t unread = 0;
    for (size_t i = 0; i < n; i++)
        unread += v[i].unread;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seconds", t);
    cJSON_AddNumberToObject(o, "count", (double)n);
    cJSON_AddNumberToObject(o, "unread", (double)unread);
    cJSON_AddStringToObject(o, "newest_subject", n ? v[0].subject : "");
    char *s = cJSON_PrintUnformatted(o);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
    er_mail_summaries_free(v, n);
    er_mail_close(m);
    er_mail_account_release(&acct);
    if (env) {
        er_env_close(env); /* it took cfg */
    } else {
        er_config_release(cfg);
        free(cfg);
    }
    return 0;
}
