/* gmail.c — the mail seam over Gmail's REST API (users.labels, messages,
 * threads, drafts).  Folders are labels; a message id is Gmail's own id.
 * Every call goes through er_gmail_request, which refreshes the access
 * token and retries once on 401, so a listing that outlives its token
 * carries on.  Reads use format=raw or format=metadata, neither of which
 * changes UNREAD. */
#include "errand/mail.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/gmail_auth.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/mime.h"
#include "errand/str.h"
#include "errand/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API      "/gmail/v1/users/me"
#define PAGE_MAX 100
/* Requests in one batch call: Google takes 100, and advises fewer to stay
 * under the per-user rate limit. */
#define BATCH_MAX 50
#define METADATA                                               \
    "?format=metadata&metadataHeaders=From&metadataHeaders=To" \
    "&metadataHeaders=Subject&metadataHeaders=Date&metadataHeaders=Message-ID"

typedef struct gm {
    er_mail base;
    const er_config *cfg;
    er_store *st;
    char *cred;
    cJSON *labels; /* users.labels.list, fetched on first need */
} gm;

/* One API call; a JSON answer in *out (may be NULL to drop it).  Google's
 * error message is passed on; 404 is ER_ENOTFOUND, 401/403 ER_EAUTH. */
static int api(gm *g, const char *method, const char *path, const cJSON *body, cJSON **out,
               er_error *err)
{
    if (out)
        *out = NULL;
    char *b = body ? er_json_print(body) : NULL;
    er_http_resp r;
    int rc = er_gmail_request(&r, g->cfg, g->st, g->cred, method, path,
                              b ? "application/json" : NULL, b, b ? strlen(b) : 0, err);
    free(b);
    if (rc)
        return rc;
    if (r.status < 200 || r.status >= 300) {
        cJSON *e = NULL;
        er_error ignore = { 0 };
        er_json_parse(&e, r.body.ptr, r.body.len, &ignore);
        const char *msg = er_json_str(er_json_obj(e, "error"), "message");
        int code = r.status == 404                      ? ER_ENOTFOUND
                   : r.status == 401 || r.status == 403 ? ER_EAUTH
                   : r.status == 400                    ? ER_EINVAL
                                                        : ER_EUNAVAIL;
        rc = er_error_set(err, code, "Gmail API %s %s: HTTP %ld%s%s", method, path, r.status,
                          msg ? ": " : "", msg ? msg : "");
        cJSON_Delete(e);
    } else if (out) {
        rc = er_json_parse(out, r.body.ptr, r.body.len, err);
    }
    er_http_resp_release(&r);
    return rc;
}

static int gm_open(er_mail **out, const er_mail_account *acct, er_error *err)
{
    if (!acct->cfg || !acct->store)
        return er_error_set(err, ER_EINVAL, "mail account '%s': Gmail needs the store", acct->name);
    gm *g = er_xcalloc(1, sizeof *g);
    g->base.be = &er_mail_gmail_backend;
    g->cfg = acct->cfg;
    g->st = acct->store;
    g->cred = er_xstrdup(acct->credential ? acct->credential : acct->name);
    *out = &g->base;
    return 0;
}

static void gm_close(er_mail *m)
{
    gm *g = (gm *)m;
    cJSON_Delete(g->labels);
    free(g->cred);
    free(g);
}

static int load_labels(gm *g, er_error *err)
{
    if (g->labels)
        return 0;
    return api(g, "GET", API "/labels", NULL, &g->labels, err);
}

/* The label id of a folder name: system labels (INBOX, SENT, DRAFT…) match
 * their id, user labels their name, both case-insensitively. */
static int label_id(gm *g, const char *folder, const char **id, er_error *err)
{
    int rc = load_labels(g, err);
    if (rc)
        return rc;
    const cJSON *l;
    cJSON_ArrayForEach(l, er_json_arr(g->labels, "labels"))
    {
        const char *lid = er_json_str(l, "id"), *name = er_json_str(l, "name");
        if ((lid && strcasecmp(lid, folder) == 0) || (name && strcasecmp(name, folder) == 0)) {
            *id = lid;
            return 0;
        }
    }
    return er_error_set(err, ER_ENOTFOUND, "no Gmail label '%s' (see mail_folders)", folder);
}

static int gm_folders(er_mail *m, er_strv *out, er_error *err)
{
    gm *g = (gm *)m;
    int rc = load_labels(g, err);
    const cJSON *l;
    if (!rc)
        cJSON_ArrayForEach(l, er_json_arr(g->labels, "labels"))
        {
            if (er_json_str(l, "name"))
                er_strv_push(out, er_json_str(l, "name"));
        }
    return rc;
}

/* One search term: op:value, the value quoted when it has a space. */
static void term(er_buf *q, const char *op, const char *value)
{
    if (er_str_empty(value))
        return;
    if (q->len)
        er_buf_putc(q, ' ');
    er_buf_puts(q, op);
    bool quote = strpbrk(value, " \t()") != NULL;
    if (quote)
        er_buf_putc(q, '"');
    for (const char *p = value; *p; p++)
        if (*p != '"')
            er_buf_putc(q, *p == '-' && (op[0] == 'a' || op[0] == 'b') ? '/' : *p);
    if (quote)
        er_buf_putc(q, '"');
}

/* The common fields as Gmail's search syntax.  A Message-ID loses its <>. */
static void build_q(er_buf *q, const er_mail_query *mq)
{
    term(q, "from:", mq->from);
    term(q, "to:", mq->to);
    term(q, "subject:", mq->subject);
    term(q, "after:", mq->since);
    term(q, "before:", mq->before);
    if (mq->message_id) {
        char *mid = er_xstrdup(mq->message_id + (mq->message_id[0] == '<'));
        size_t l = strlen(mid);
        if (l && mid[l - 1] == '>')
            mid[l - 1] = '\0';
        term(q, "rfc822msgid:", mid);
        free(mid);
    }
    if (mq->unread)
        term(q, "is:", "unread");
    if (!er_str_empty(mq->text)) {
        if (q->len)
            er_buf_putc(q, ' ');
        er_buf_puts(q, mq->text);
    }
}

static const char *header(const cJSON *msg, const char *name)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, er_json_arr(er_json_obj(msg, "payload"), "headers"))
    {
        const char *n = er_json_str(h, "name");
        if (n && strcasecmp(n, name) == 0)
            return er_json_str(h, "value");
    }
    return NULL;
}

static bool has_label(const cJSON *msg, const char *label)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, er_json_arr(msg, "labelIds"))
    {
        if (cJSON_IsString(l) && strcmp(l->valuestring, label) == 0)
            return true;
    }
    return false;
}

static char *dup_or_empty(const char *s)
{
    return er_xstrdup(s ? s : "");
}

/* A messages.get (format=metadata) answer into m. */
static void meta_of(const cJSON *msg, const char *id, er_mail_meta *m)
{
    er_mail_summary *s = &m->s;
    s->id = er_xstrdup(id);
    s->from = dup_or_empty(header(msg, "From"));
    s->to = dup_or_empty(header(msg, "To"));
    s->subject = dup_or_empty(header(msg, "Subject"));
    s->date = dup_or_empty(header(msg, "Date"));
    s->message_id = dup_or_empty(header(msg, "Message-ID"));
    s->unread = has_label(msg, "UNREAD");
    s->size = (size_t)er_json_int(msg, "sizeEstimate", 0, 0, INT64_MAX);
    const char *internal = er_json_str(msg, "internalDate");
    m->sort_key = internal ? strtoll(internal, NULL, 10) : 0;
    er_buf l = ER_BUF_INIT;
    const cJSON *it;
    er_buf_putc(&l, ' ');
    cJSON_ArrayForEach(it, er_json_arr(msg, "labelIds"))
    {
        if (cJSON_IsString(it))
            er_buf_printf(&l, "%s ", it->valuestring);
    }
    m->labels = er_buf_detach(&l);
}

/* One messages.get; ER_ENOTFOUND when the message is gone. */
static int get_one(gm *g, const char *id, er_mail_meta *m, er_error *err)
{
    er_buf path = ER_BUF_INIT;
    er_buf_puts(&path, API "/messages/");
    er_url_encode(&path, id);
    er_buf_puts(&path, METADATA);
    cJSON *msg = NULL;
    int rc = api(g, "GET", path.ptr, NULL, &msg, err);
    er_buf_release(&path);
    if (!rc)
        meta_of(msg, id, m);
    cJSON_Delete(msg);
    return rc;
}

/* The parts of a multipart/mixed batch answer: for each, the inner status
 * and JSON body, by the index in its Content-ID (response-item-N). */
static void parse_batch(const char *body, size_t len, size_t count, long *status, cJSON **msgs)
{
    const char *end = body + len;
    if (len < 4 || body[0] != '-' || body[1] != '-')
        return;
    size_t bl = strcspn(body, "\r\n");
    char *delim = er_xstrndup(body, bl);
    for (const char *p = body; p && p < end;) {
        p += bl;
        if (p + 2 <= end && p[0] == '-' && p[1] == '-')
            break;
        const char *next = memmem(p, (size_t)(end - p), delim, bl);
        const char *stop = next ? next : end;
        const char *cid = memmem(p, (size_t)(stop - p), "response-item-", 14);
        const char *http = memmem(p, (size_t)(stop - p), "HTTP/1.1 ", 9);
        const char *json = http ? memmem(http, (size_t)(stop - http), "\r\n\r\n", 4) : NULL;
        size_t k = cid ? strtoul(cid + 14, NULL, 10) : count;
        if (k < count && http && json) {
            status[k] = strtol(http + 9, NULL, 10);
            er_error ignore = { 0 };
            cJSON_Delete(msgs[k]);
            msgs[k] = NULL;
            er_json_parse(&msgs[k], json + 4, (size_t)(stop - json - 4), &ignore);
        }
        p = next;
    }
    free(delim);
}

/* Metadata of ids[from, from + count) in one batch call; slots whose part
 * failed keep status != 200 (0 when the batch itself did not work). */
static void get_batch(gm *g, const er_strv *ids, size_t from, size_t count, long *status,
                      cJSON **msgs)
{
    er_buf body = ER_BUF_INIT;
    const char *boundary = "errand_batch_7c1e";
    for (size_t i = 0; i < count; i++) {
        er_buf_printf(&body,
                      "--%s\r\nContent-Type: application/http\r\nContent-ID: <item-%zu>\r\n\r\n"
                      "GET " API "/messages/",
                      boundary, i);
        er_url_encode(&body, ids->v[from + i]);
        er_buf_puts(&body, METADATA " HTTP/1.1\r\n\r\n");
    }
    er_buf_printf(&body, "--%s--\r\n", boundary);
    char ctype[64];
    snprintf(ctype, sizeof ctype, "multipart/mixed; boundary=%s", boundary);
    er_http_resp r;
    er_error e = { 0 };
    if (er_gmail_request(&r, g->cfg, g->st, g->cred, "POST", "/batch/gmail/v1", ctype, body.ptr,
                         body.len, &e) == 0 &&
        r.status == 200)
        parse_batch(r.body.ptr, r.body.len, count, status, msgs);
    else
        er_log(ER_LOG_INFO, "gmail", "batch get refused (%s); fetching one by one",
               e.msg[0] ? e.msg : "HTTP error");
    er_http_resp_release(&r);
    er_buf_release(&body);
}

/* Metadata of every id, BATCH_MAX per batch call; a part that failed is
 * fetched alone (with the quota's backoff).  out[i].s.id stays NULL for a
 * message that is gone. */
static int get_metadata(gm *g, const er_strv *ids, er_mail_meta *out, er_error *err)
{
    int rc = 0;
    for (size_t from = 0; from < ids->n && !rc; from += BATCH_MAX) {
        size_t count = ids->n - from < BATCH_MAX ? ids->n - from : BATCH_MAX;
        long status[BATCH_MAX] = { 0 };
        cJSON *msgs[BATCH_MAX] = { 0 };
        if (count > 1)
            get_batch(g, ids, from, count, status, msgs);
        for (size_t i = 0; i < count; i++) {
            if (!rc && status[i] == 200 && msgs[i])
                meta_of(msgs[i], ids->v[from + i], &out[from + i]);
            else if (!rc && status[i] != 404) {
                rc = get_one(g, ids->v[from + i], &out[from + i], err);
                if (rc == ER_ENOTFOUND)
                    rc = 0;
            }
            cJSON_Delete(msgs[i]);
        }
    }
    return rc;
}

static void meta_free(er_mail_meta *v, size_t n)
{
    er_mail_delta d = { .v = v, .n = n };
    er_mail_delta_release(&d);
}

/* Ids from messages.list (label and q may be NULL; the bins are left out),
 * newest first, at most max, pages of at most page_cap; *more when there
 * are older ones. */
static int list_ids(gm *g, const char *label, const char *q, size_t max, size_t page_cap,
                    er_strv *ids, bool *more, er_error *err)
{
    char *page = NULL;
    int rc = 0;
    while (!rc && ids->n < max) {
        er_buf path = ER_BUF_INIT;
        er_buf_puts(&path, API "/messages?");
        if (label)
            er_url_param(&path, "labelIds", label);
        char num[24];
        snprintf(num, sizeof num, "%zu", max - ids->n < page_cap ? max - ids->n : page_cap);
        er_url_param(&path, "maxResults", num);
        if (q)
            er_url_param(&path, "q", q);
        if (page)
            er_url_param(&path, "pageToken", page);
        cJSON *list = NULL;
        rc = api(g, "GET", path.ptr, NULL, &list, err);
        er_buf_release(&path);
        const cJSON *it;
        cJSON_ArrayForEach(it, er_json_arr(list, "messages"))
        {
            if (er_json_str(it, "id") && ids->n < max)
                er_strv_push(ids, er_json_str(it, "id"));
        }
        free(page);
        page = er_json_str(list, "nextPageToken") ? er_xstrdup(er_json_str(list, "nextPageToken"))
                                                  : NULL;
        cJSON_Delete(list);
        if (!page)
            break;
    }
    *more = !rc && page != NULL;
    free(page);
    return rc;
}

static int gm_search(er_mail *m, const er_mail_query *mq, er_mail_summary **out, size_t *n,
                     er_error *err)
{
    gm *g = (gm *)m;
    size_t limit = mq->limit ? mq->limit : 20;
    if (mq->references)
        return er_error_set(err, ER_EINVAL,
                            "Gmail cannot search the References header: use the thread");
    const char *label = NULL;
    int rc = label_id(g, mq->folder ? mq->folder : "INBOX", &label, err);
    er_buf q = ER_BUF_INIT;
    build_q(&q, mq);
    er_strv ids = ER_STRV_INIT;
    bool more = false;
    if (!rc)
        rc = list_ids(g, label, q.len ? q.ptr : NULL, limit, PAGE_MAX, &ids, &more, err);
    er_buf_release(&q);
    if (!rc && ids.n) {
        er_mail_meta *metas = er_xcalloc(ids.n, sizeof *metas);
        rc = get_metadata(g, &ids, metas, err);
        *out = er_xcalloc(ids.n, sizeof **out);
        for (size_t i = 0; !rc && i < ids.n; i++)
            if (metas[i].s.id) {
                (*out)[(*n)++] = metas[i].s;
                memset(&metas[i].s, 0, sizeof metas[i].s);
            }
        meta_free(metas, ids.n);
    }
    er_strv_free(&ids);
    return rc;
}

/* ---- the metadata cache's refresh ---- */

/* The mailbox's historyId now (users.getProfile). */
static int history_now(gm *g, int64_t *out, er_error *err)
{
    cJSON *p = NULL;
    int rc = api(g, "GET", API "/profile", NULL, &p, err);
    const char *h = rc ? NULL : er_json_str(p, "historyId");
    if (!rc && !h)
        rc = er_error_set(err, ER_EPROTO, "Gmail's profile has no historyId");
    if (!rc)
        *out = strtoll(h, NULL, 10);
    cJSON_Delete(p);
    return rc;
}

static bool strv_has(const er_strv *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return true;
    return false;
}

/* users.history.list since *since: the messages added or relabelled into
 * changed, the deleted into gone; *since moves to the mailbox's historyId.
 * ER_ENOTFOUND when Google no longer has that history. */
static int history_since(gm *g, int64_t *since, er_strv *changed, er_strv *gone, er_error *err)
{
    char *page = NULL, start[24];
    snprintf(start, sizeof start, "%lld", (long long)*since);
    int64_t newest = *since;
    int rc = 0;
    do {
        er_buf path = ER_BUF_INIT;
        er_buf_puts(&path, API "/history?maxResults=500");
        er_url_param(&path, "startHistoryId", start);
        if (page)
            er_url_param(&path, "pageToken", page);
        cJSON *h = NULL;
        rc = api(g, "GET", path.ptr, NULL, &h, err);
        er_buf_release(&path);
        const cJSON *rec, *ch;
        cJSON_ArrayForEach(rec, er_json_arr(h, "history"))
        {
            static const char *const kinds[] = { "messagesAdded", "labelsAdded", "labelsRemoved",
                                                 "messagesDeleted" };
            for (size_t k = 0; k < ER_ARRAY_LEN(kinds); k++)
                cJSON_ArrayForEach(ch, er_json_arr(rec, kinds[k]))
                {
                    const char *id = er_json_str(er_json_obj(ch, "message"), "id");
                    if (!id)
                        continue;
                    er_strv *into = k == 3 ? gone : changed;
                    if (!strv_has(into, id))
                        er_strv_push(into, id);
                }
        }
        if (er_json_str(h, "historyId"))
            newest = strtoll(er_json_str(h, "historyId"), NULL, 10);
        free(page);
        page = er_json_str(h, "nextPageToken") ? er_xstrdup(er_json_str(h, "nextPageToken")) : NULL;
        cJSON_Delete(h);
    } while (!rc && page);
    free(page);
    if (!rc)
        *since = newest;
    return rc;
}

static int gm_refresh(er_mail *m, const char *folder, er_mail_sync *state, size_t max,
                      er_mail_delta *d, char **label, er_error *err)
{
    gm *g = (gm *)m;
    const char *lid = NULL;
    int rc = label_id(g, folder, &lid, err);
    if (rc)
        return rc;
    *label = er_xstrdup(lid);
    er_strv ids = ER_STRV_INIT;
    if (state->modseq > 0) {
        er_error e = { 0 };
        int64_t since = state->modseq;
        rc = history_since(g, &since, &ids, &d->removed, &e);
        if (rc == ER_ENOTFOUND) {
            /* Google keeps about a week of history: start again. */
            er_log(ER_LOG_INFO, "gmail", "history %lld of '%s' has expired; listing the mailbox",
                   (long long)state->modseq, g->cred);
            er_strv_free(&ids);
            er_strv_free(&d->removed);
            memset(state, 0, sizeof *state);
            rc = 0;
        } else if (rc) {
            er_strv_free(&ids);
            return er_error_set(err, rc, "%s", e.msg);
        } else {
            state->modseq = since;
        }
    }
    if (state->modseq == 0) {
        int64_t now = 0;
        bool more = false;
        d->reset = true;
        /* The history id first: what changes during the listing comes again. */
        rc = history_now(g, &now, err);
        if (!rc)
            rc = list_ids(g, NULL, NULL, max, 500, &ids, &more, err);
        state->modseq = now;
        state->complete = !more;
    }
    er_mail_meta *metas = !rc && ids.n ? er_xcalloc(ids.n, sizeof *metas) : NULL;
    if (metas)
        rc = get_metadata(g, &ids, metas, err);
    for (size_t i = 0; !rc && i < ids.n; i++) {
        if (!metas[i].s.id) {
            if (!strv_has(&d->removed, ids.v[i]))
                er_strv_push(&d->removed, ids.v[i]);
            continue;
        }
        *er_mail_delta_add(d) = metas[i];
        memset(&metas[i], 0, sizeof metas[i]);
    }
    if (metas)
        meta_free(metas, ids.n);
    er_strv_free(&ids);
    if (rc) {
        free(*label);
        *label = NULL;
    }
    return rc;
}

/* base64url (no padding) as Gmail's raw field holds it. */
static int decode_raw(const char *s, er_buf *raw, er_error *err)
{
    char *t = er_xstrdup(s);
    for (char *p = t; *p; p++)
        *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    int rc = er_base64_decode(raw, t, strlen(t));
    free(t);
    if (rc)
        return er_error_set(err, rc, "Gmail sent a raw message that is not base64url");
    return 0;
}

static int gm_fetch(er_mail *m, const char *id, er_buf *raw, er_error *err)
{
    gm *g = (gm *)m;
    er_buf path = ER_BUF_INIT;
    er_buf_puts(&path, API "/messages/");
    er_url_encode(&path, id);
    er_buf_puts(&path, "?format=raw");
    cJSON *msg = NULL;
    int rc = api(g, "GET", path.ptr, NULL, &msg, err);
    er_buf_release(&path);
    if (!rc && !er_json_str(msg, "raw"))
        rc = er_error_set(err, ER_EPROTO, "Gmail's message %s has no raw field", id);
    if (!rc)
        rc = decode_raw(er_json_str(msg, "raw"), raw, err);
    cJSON_Delete(msg);
    return rc;
}

/* The thread of the message a reply answers (OWNED, NULL when it is no
 * reply or the original is not in the mailbox): Gmail files a draft or a
 * sent reply under a thread only when its threadId is given. */
static char *reply_thread(gm *g, const char *raw, size_t len)
{
    cJSON *parsed = NULL, *list = NULL;
    er_error ignore = { 0 };
    char *thread = NULL;
    if (er_mime_parse(&parsed, raw, len, &ignore) != 0)
        return NULL;
    const char *irt = er_json_str(parsed, "in_reply_to");
    if (!er_str_empty(irt)) {
        er_mail_query q = { .message_id = irt };
        er_buf qs = ER_BUF_INIT, path = ER_BUF_INIT;
        build_q(&qs, &q);
        er_buf_puts(&path, API "/messages?maxResults=1&");
        er_url_param(&path, "q", qs.ptr);
        if (api(g, "GET", path.ptr, NULL, &list, &ignore) == 0) {
            const cJSON *first = cJSON_GetArrayItem(er_json_arr(list, "messages"), 0);
            if (er_json_str(first, "threadId"))
                thread = er_xstrdup(er_json_str(first, "threadId"));
        }
        er_buf_release(&qs);
        er_buf_release(&path);
    }
    cJSON_Delete(list);
    cJSON_Delete(parsed);
    return thread;
}

static cJSON *raw_message(gm *g, const char *raw, size_t len)
{
    er_buf b = ER_BUF_INIT;
    er_base64_encode(&b, raw, len, true);
    cJSON *msg = cJSON_CreateObject();
    er_json_add_str(msg, "raw", b.ptr ? b.ptr : "");
    er_buf_release(&b);
    char *thread = reply_thread(g, raw, len);
    if (thread)
        er_json_add_str(msg, "threadId", thread);
    free(thread);
    return msg;
}

static bool has_flag(const char *flags, const char *flag)
{
    const char *p = flags ? strstr(flags, flag) : NULL;
    return p && (p[strlen(flag)] == '\0' || p[strlen(flag)] == ' ');
}

/* Into the drafts folder: users.drafts.create; elsewhere users.messages.insert
 * with the folder's label, UNREAD unless \Seen. */
static int gm_append(er_mail *m, const char *folder, const char *flags, const char *raw, size_t len,
                     er_error *err)
{
    gm *g = (gm *)m;
    const char *label = NULL;
    int rc = label_id(g, folder, &label, err);
    if (rc)
        return rc;
    cJSON *msg = raw_message(g, raw, len);
    if (strcmp(label, "DRAFT") == 0) {
        cJSON *d = cJSON_CreateObject();
        er_json_add(d, "message", msg);
        rc = api(g, "POST", API "/drafts", d, NULL, err);
        cJSON_Delete(d);
        return rc;
    }
    cJSON *labels = cJSON_AddArrayToObject(msg, "labelIds");
    cJSON_AddItemToArray(labels, cJSON_CreateString(label));
    if (!has_flag(flags, "\\Seen"))
        cJSON_AddItemToArray(labels, cJSON_CreateString("UNREAD"));
    if (has_flag(flags, "\\Flagged"))
        cJSON_AddItemToArray(labels, cJSON_CreateString("STARRED"));
    rc = api(g, "POST", API "/messages?internalDateSource=dateHeader", msg, NULL, err);
    cJSON_Delete(msg);
    return rc;
}

/* users.messages.send: Gmail takes the recipients from the headers (Bcc
 * included) and files the message under SENT itself. */
static int gm_send(er_mail *m, const char *from, const er_strv *rcpts, const char *raw, size_t len,
                   er_error *err)
{
    (void)from;
    (void)rcpts;
    cJSON *msg = raw_message((gm *)m, raw, len);
    int rc = api((gm *)m, "POST", API "/messages/send", msg, NULL, err);
    cJSON_Delete(msg);
    return rc;
}

static int modify(gm *g, const char *id, const char *add, const char *remove, er_error *err)
{
    cJSON *body = cJSON_CreateObject();
    if (add)
        cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "addLabelIds"), cJSON_CreateString(add));
    if (remove)
        cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "removeLabelIds"),
                             cJSON_CreateString(remove));
    er_buf path = ER_BUF_INIT;
    er_buf_puts(&path, API "/messages/");
    er_url_encode(&path, id);
    er_buf_puts(&path, "/modify");
    int rc = api(g, "POST", path.ptr, body, NULL, err);
    er_buf_release(&path);
    cJSON_Delete(body);
    return rc;
}

/* IMAP's flags as labels: \Seen is the absence of UNREAD, \Flagged is
 * STARRED, \Deleted moves to the trash. */
static int gm_flag(er_mail *m, const char *id, const char *flags, bool add, er_error *err)
{
    gm *g = (gm *)m;
    int rc = 0;
    if (has_flag(flags, "\\Seen"))
        rc = modify(g, id, add ? NULL : "UNREAD", add ? "UNREAD" : NULL, err);
    if (!rc && has_flag(flags, "\\Flagged"))
        rc = modify(g, id, add ? "STARRED" : NULL, add ? NULL : "STARRED", err);
    if (!rc && has_flag(flags, "\\Deleted") && add) {
        er_buf path = ER_BUF_INIT;
        er_buf_puts(&path, API "/messages/");
        er_url_encode(&path, id);
        er_buf_puts(&path, "/trash");
        rc = api(g, "POST", path.ptr, NULL, NULL, err);
        er_buf_release(&path);
    }
    return rc;
}

/* Into a label and out of the inbox; the id stays. */
static int gm_move(er_mail *m, const char *id, const char *folder, char **new_id, er_error *err)
{
    gm *g = (gm *)m;
    const char *label = NULL;
    int rc = label_id(g, folder, &label, err);
    if (!rc)
        rc = modify(g, id, label, strcmp(label, "INBOX") == 0 ? NULL : "INBOX", err);
    if (!rc && new_id)
        *new_id = er_xstrdup(id);
    return rc;
}

/* users.threads.get, minimal: the ids of the thread's messages, oldest first. */
static int gm_thread(er_mail *m, const char *id, er_strv *ids, er_error *err)
{
    gm *g = (gm *)m;
    er_buf path = ER_BUF_INIT;
    er_buf_puts(&path, API "/messages/");
    er_url_encode(&path, id);
    er_buf_puts(&path, "?format=minimal");
    cJSON *msg = NULL, *th = NULL;
    int rc = api(g, "GET", path.ptr, NULL, &msg, err);
    er_buf_release(&path);
    if (!rc && !er_json_str(msg, "threadId"))
        rc = er_error_set(err, ER_EPROTO, "Gmail's message %s has no threadId", id);
    if (!rc) {
        er_buf_init(&path, 0);
        er_buf_puts(&path, API "/threads/");
        er_url_encode(&path, er_json_str(msg, "threadId"));
        er_buf_puts(&path, "?format=minimal");
        rc = api(g, "GET", path.ptr, NULL, &th, err);
        er_buf_release(&path);
    }
    const cJSON *it;
    if (!rc)
        cJSON_ArrayForEach(it, er_json_arr(th, "messages"))
        {
            if (er_json_str(it, "id"))
                er_strv_push(ids, er_json_str(it, "id"));
        }
    cJSON_Delete(msg);
    cJSON_Delete(th);
    return rc;
}

const er_mail_backend er_mail_gmail_backend = {
    .version = ER_MAIL_BACKEND_VERSION,
    .scheme = "gmail",
    .open = gm_open,
    .close = gm_close,
    .folders = gm_folders,
    .search = gm_search,
    .fetch = gm_fetch,
    .append = gm_append,
    .send = gm_send,
    .flag = gm_flag,
    .move = gm_move,
    .files_sent = true,
    .thread = gm_thread,
    .refresh = gm_refresh,
    .refresh_mailbox = true,
};
