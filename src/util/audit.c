/* audit.c — the hash-chained audit log (audit.h). */
#include "errand/audit.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/config.h"
#include "errand/digest.h"
#include "errand/json.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGS_KEPT 2000
#define HASH_KEY  ",\"hash\":\""

char *er_audit_path(const char *configured, er_error *err)
{
    if (!er_str_empty(configured))
        return er_xstrdup(configured);
    char *dir = er_xdg_dir("data", true, err);
    if (!dir)
        return NULL;
    char *p = er_xasprintf("%s/audit.jsonl", dir);
    free(dir);
    return p;
}

/* The hash of an entry: SHA-256 of prev, '\n', body. */
static int entry_hash(const char *prev, const char *body, size_t len, char out[65], er_error *err)
{
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b, "%s\n", prev);
    er_buf_append(&b, body, len);
    int rc = er_sha256_hex(b.ptr, b.len, out, err);
    er_buf_release(&b);
    return rc;
}

/* Reads "HASH COUNT" from the head file; false when there is none. */
static bool read_head(const char *path, char hash[65], long *count)
{
    char *hp = er_xasprintf("%s.head", path);
    FILE *f = fopen(hp, "r");
    free(hp);
    if (!f)
        return false;
    bool ok = fscanf(f, "%64s %ld", hash, count) == 2;
    fclose(f);
    return ok;
}

static int write_head(const char *path, const char *hash, long count, er_error *err)
{
    char *hp = er_xasprintf("%s.head", path), *tmp = er_xasprintf("%s.head.tmp", path);
    int rc = 0;
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s %ld\n", hash, count) < 0 || fclose(f) != 0 || rename(tmp, hp) != 0)
        rc = er_error_set(err, ER_EIO, "cannot write the audit head '%s': %s", hp, strerror(errno));
    free(hp);
    free(tmp);
    return rc;
}

static void mkdirs_for(const char *path)
{
    char *dir = er_xstrdup(path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0700);
        *p = '/';
    }
    free(dir);
}

static char *entry_body(const er_audit_entry *e, const char *prev, er_error *err)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "prev", prev);
    er_json_add_num(j, "ts", (double)er_time_ms());
    er_json_add_str(j, "task_id", e->task_id);
    er_json_add_str(j, "user_id", e->user_id);
    er_json_add_str(j, "agent", e->agent);
    er_json_add_str(j, "tool", e->tool);
    er_json_add_str(j, "perm", e->perm);
    const char *args = e->arguments ? e->arguments : "";
    size_t n = strlen(args);
    if (n > ARGS_KEPT) {
        char digest[65];
        if (er_sha256_hex(args, n, digest, err)) {
            cJSON_Delete(j);
            return NULL;
        }
        char *cut = er_xstrndup(args, ARGS_KEPT);
        er_json_add_str(j, "arguments", cut);
        er_json_add_str(j, "arguments_sha256", digest);
        free(cut);
    } else {
        er_json_add_str(j, "arguments", args);
    }
    er_json_add_str(j, "approval", e->approval);
    er_json_add_str(j, "outcome", e->outcome);
    char *body = er_json_print(j);
    cJSON_Delete(j);
    return body;
}

int er_audit_append(const char *path, const er_audit_entry *e, er_error *err)
{
    mkdirs_for(path);
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return er_error_set(err, ER_EIO, "cannot open the audit log '%s': %s", path,
                            strerror(errno));
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return er_error_set(err, ER_EIO, "cannot lock the audit log '%s': %s", path,
                            strerror(errno));
    }
    char prev[65] = "";
    long count = 0;
    struct stat st;
    /* The head file says where the chain is; a log without one starts it. */
    if (!read_head(path, prev, &count) && fstat(fd, &st) == 0 && st.st_size > 0) {
        close(fd);
        return er_error_set(err, ER_ECONFLICT,
                            "the audit log '%s' has entries but no head "
                            "file; run errand audit verify",
                            path);
    }
    char *body = entry_body(e, prev, err);
    int rc = body ? 0 : err->code;
    char hash[65];
    if (rc == 0) {
        size_t bl = strlen(body);
        rc = entry_hash(prev, body, bl - 1, hash, err); /* without the closing brace */
        if (rc == 0) {
            body[bl - 1] = '\0';
            char *line = er_xasprintf("%s" HASH_KEY "%s\"}\n", body, hash);
            size_t ll = strlen(line);
            if (write(fd, line, ll) != (ssize_t)ll)
                rc = er_error_set(err, ER_EIO, "cannot append to the audit log '%s': %s", path,
                                  strerror(errno));
            free(line);
        }
    }
    if (rc == 0)
        rc = write_head(path, hash, count + 1, err);
    free(body);
    close(fd); /* releases the lock */
    return rc;
}

/* Checks one line against prev; fills hash.  Returns a problem or NULL. */
static const char *check_line(char *line, const char *prev, char hash[65], er_error *err)
{
    char *h = strstr(line, HASH_KEY);
    char *last = h;
    while (h) { /* the last one: arguments may contain the text */
        last = h;
        h = strstr(h + 1, HASH_KEY);
    }
    if (!last)
        return "no hash";
    const char *stored = last + strlen(HASH_KEY);
    if (strlen(stored) < 66 || stored[64] != '"')
        return "a malformed hash";
    cJSON *j = cJSON_Parse(line);
    const char *p = er_json_str(j, "prev");
    bool prev_ok = p && strcmp(p, prev) == 0;
    cJSON_Delete(j);
    if (!prev_ok)
        return "its prev is not the hash of the entry before it (an entry was removed, "
               "inserted or reordered)";
    if (entry_hash(prev, line, (size_t)(last - line), hash, err))
        return "cannot hash";
    if (strncmp(hash, stored, 64) != 0)
        return "its content does not match its hash (the entry was changed)";
    return NULL;
}

int er_audit_verify(const char *path, er_audit_report *rep, er_error *err)
{
    memset(rep, 0, sizeof *rep);
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT)
        return 0;
    if (!f)
        return er_error_set(err, ER_EIO, "cannot read the audit log '%s': %s", path,
                            strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    char prev[65] = "";
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        rep->entries++;
        if (n && line[n - 1] == '\n')
            line[n - 1] = '\0';
        char hash[65];
        const char *problem = check_line(line, prev, hash, err);
        if (problem) {
            rep->bad_line = rep->entries;
            snprintf(rep->problem, sizeof rep->problem, "entry %ld: %s", rep->entries, problem);
            rc = ER_ECONFLICT;
            break;
        }
        memcpy(prev, hash, sizeof prev);
    }
    free(line);
    fclose(f);
    memcpy(rep->head, prev, sizeof rep->head);
    char head[65];
    long count;
    if (rc == 0 && rep->entries > 0) {
        if (!read_head(path, head, &count)) {
            snprintf(rep->problem, sizeof rep->problem, "the head file %s.head is missing", path);
            rc = ER_ECONFLICT;
        } else if (count != rep->entries || strcmp(head, prev) != 0) {
            snprintf(rep->problem, sizeof rep->problem,
                     "the log has %ld entries ending in "
                     "%.12s…, its head says %ld ending in %.12s… (entries were removed from "
                     "the end)",
                     rep->entries, prev, count, head);
            rc = ER_ECONFLICT;
        }
        if (rc)
            rep->bad_line = rep->entries;
    }
    if (rc)
        er_error_set(err, rc, "audit log '%s' is broken: %s", path, rep->problem);
    return rc;
}
