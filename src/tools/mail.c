/* mail.c — the mail tool family (the email agent's): folders, search, read,
 * thread, draft, send, mark and move, over the mail seam (mail.h).
 *
 * Reading tools (folders, search, read, thread) are of the network class: what they return is outside text,
 * fenced as data (untrusted.h), so once one has run the runtime's taint rule
 * makes every send, draft or change need the user's own approval.  mail_send
 * is of the send class: nothing leaves without the policy's (by default the
 * user's) yes.  Sending is idempotent by Message-ID: a copy goes to the Sent
 * folder, flagged $ErrandPending, before the SMTP transaction, and a send
 * whose Message-ID is already in Sent is not repeated. */
#include "errand/alloc.h"
#include "errand/env.h"
#include "errand/json.h"
#include "errand/mail.h"
#include "errand/mail_analyze.h"
#include "errand/mime.h"
#include "errand/str.h"
#include "errand/tool_families.h"
#include "errand/untrusted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CHARS 20000
#define MAX_CHARS     200000
#define PENDING_FLAG  "$ErrandPending"

/* Fetches message id and parses it (*out OWNED; NULL on failure). */
static int fetch_parsed(er_mail *m, const char *id, cJSON **out, er_error *err)
{
    er_buf raw;
    er_buf_init(&raw, (size_t)32 << 20);
    *out = NULL;
    int rc = er_mail_fetch(m, id, &raw, err);
    if (!rc)
        rc = er_mime_parse(out, raw.ptr, raw.len, err);
    er_buf_release(&raw);
    return rc;
}

/* Opens the account the arguments name (or the default one). */
static int open_account(const er_tool_ctx *ctx, const cJSON *args, er_mail_account *acct,
                        er_mail **m, er_error *err)
{
    int rc =
        er_mail_account_resolve(acct, er_env_config(ctx->env), er_json_str(args, "account"), err);
    if (rc)
        return rc;
    if (acct->provider) { /* Gmail's tokens live in the store */
        rc = er_env_store(ctx->env, &acct->store, err);
    } else {
        /* The metadata cache's only: without a store, searches ask the server. */
        er_error ignore = { 0 };
        if (er_env_store(ctx->env, &acct->store, &ignore) != 0)
            acct->store = NULL;
    }
    /* Networked, the metadata cache is the workers' shared one (mail_cache.h). */
    if (!rc && !er_str_empty(er_env_config(ctx->env)->redis_url))
        rc = er_env_cache(ctx->env, &acct->cache, err);
    if (!rc)
        rc = er_mail_open(m, acct, err);
    if (rc)
        er_mail_account_release(acct);
    return rc;
}

static void close_account(er_mail_account *acct, er_mail *m)
{
    er_mail_close(m);
    er_mail_account_release(acct);
}

/* ---- mail_folders ---- */

static int run_folders(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    er_strv names = ER_STRV_INIT;
    rc = er_mail_folders(m, &names, err);
    if (!rc) {
        cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
        er_json_add_str(o, "account", acct.name);
        for (size_t i = 0; i < names.n; i++)
            er_json_append(arr, cJSON_CreateString(names.v[i]));
        er_json_add(o, "folders", arr);
        rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    er_strv_free(&names);
    close_account(&acct, m);
    return rc;
}

/* ---- mail_search ---- */

static int run_search(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    er_mail_query q = {
        .folder = er_json_str(args, "folder"),
        .from = er_json_str(args, "from"),
        .to = er_json_str(args, "to"),
        .subject = er_json_str(args, "subject"),
        .text = er_json_str(args, "text"),
        .since = er_json_str(args, "since"),
        .before = er_json_str(args, "before"),
        .message_id = er_json_str(args, "message_id"),
        .unread = er_json_bool(args, "unread", false),
        .limit = (size_t)er_json_int(args, "limit", 20, 1, 200),
    };
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    er_mail_summary *v = NULL;
    size_t n = 0;
    rc = er_mail_search(m, &q, &v, &n, err);
    if (!rc) {
        cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
        er_buf text = ER_BUF_INIT, fenced = ER_BUF_INIT;
        er_json_add_str(o, "account", acct.name);
        er_json_add_str(o, "folder", er_str_empty(q.folder) ? "INBOX" : q.folder);
        er_json_add_num(o, "count", (double)n);
        for (size_t i = 0; i < n; i++) {
            /* ids and flags are ours; names and subjects are the senders'. */
            cJSON *r = cJSON_CreateObject();
            er_json_add_str(r, "id", v[i].id);
            er_json_add_bool(r, "unread", v[i].unread);
            er_json_add_num(r, "size", (double)v[i].size);
            er_json_append(arr, r);
            er_buf_printf(&text, "[%s]%s %s\n    from: %s\n    subject: %s\n", v[i].id,
                          v[i].unread ? " (unread)" : "", v[i].date, v[i].from, v[i].subject);
        }
        er_json_add(o, "messages", arr);
        char *source = er_xasprintf("mailbox %s", acct.name);
        er_untrusted_fence(&fenced, "mail headers", source, er_buf_cstr(&text), text.len);
        er_tools_add_text(o, "listing", fenced.ptr, fenced.len, ER_TOOLS_BUDGET);
        free(source);
        er_buf_release(&text);
        er_buf_release(&fenced);
        rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    er_mail_summaries_free(v, n);
    close_account(&acct, m);
    return rc;
}

/* ---- mail_read ---- */

/* The parsed message as the model sees it: ids plain, the rest fenced. */
static cJSON *read_result(const char *id, const cJSON *msg, size_t max, const char *account)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "id", id);
    er_json_add_str(o, "message_id", er_json_str(msg, "message_id"));
    er_buf text = ER_BUF_INIT, fenced = ER_BUF_INIT;
    static const char *const hdrs[][2] = { { "from", "From" },
                                           { "to", "To" },
                                           { "cc", "Cc" },
                                           { "date", "Date" },
                                           { "subject", "Subject" } };
    for (size_t i = 0; i < ER_ARRAY_LEN(hdrs); i++) {
        const char *v = er_json_str(msg, hdrs[i][0]);
        if (!er_str_empty(v))
            er_buf_printf(&text, "%s: %s\n", hdrs[i][1], v);
    }
    const char *body = er_json_str(msg, "text");
    size_t bl = body ? strlen(body) : 0;
    er_buf_puts(&text, "\n");
    er_buf_append(&text, body ? body : "", bl < max ? bl : max);
    if (bl > max)
        er_buf_printf(&text, "\n[... %zu more bytes of the body not shown ...]\n", bl - max);
    char *source = er_xasprintf("mail %s in %s", id, account);
    er_untrusted_fence(&fenced, "email", source, er_buf_cstr(&text), text.len);
    er_tools_add_text(o, "message", fenced.ptr, fenced.len, ER_TOOLS_BUDGET);
    er_json_add_str(o, "text_from", er_json_str(msg, "text_from"));
    /* File names are the sender's text too: only numbers, types and sizes go
     * outside the fence. */
    cJSON *atts = cJSON_CreateArray();
    er_buf names = ER_BUF_INIT, fnames = ER_BUF_INIT;
    const cJSON *a;
    cJSON_ArrayForEach(a, er_json_arr(msg, "attachments"))
    {
        cJSON *x = cJSON_CreateObject();
        er_json_add_num(x, "part", er_json_num(a, "part", 0));
        er_json_add_str(x, "content_type", er_json_str(a, "content_type"));
        er_json_add_num(x, "size", er_json_num(a, "size", 0));
        er_json_append(atts, x);
        er_buf_printf(&names, "part %d: %s\n", (int)er_json_num(a, "part", 0),
                      er_json_str(a, "filename"));
    }
    er_json_add(o, "attachments", atts);
    if (names.len) {
        er_untrusted_fence(&fnames, "attachment names", source, names.ptr, names.len);
        er_tools_add_text(o, "attachment_names", fnames.ptr, fnames.len, 4096);
    }
    free(source);
    er_buf_release(&names);
    er_buf_release(&fnames);
    er_buf_release(&text);
    er_buf_release(&fenced);
    return o;
}

static int run_read(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *id = er_json_str(args, "id");
    size_t max = (size_t)er_json_int(args, "max_chars", DEFAULT_CHARS, 1, MAX_CHARS);
    if (max > ER_TOOLS_BUDGET / 2)
        max = ER_TOOLS_BUDGET / 2;
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    cJSON *msg = NULL;
    rc = fetch_parsed(m, id, &msg, err);
    if (!rc && er_json_bool(args, "mark_read", false))
        rc = er_mail_flag(m, id, "\\Seen", true, err);
    if (!rc) {
        cJSON *o = read_result(id, msg, max, acct.name);
        rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    cJSON_Delete(msg);
    close_account(&acct, m);
    return rc;
}

/* ---- mail_analyze ---- */

static int run_analyze(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *id = er_json_str(args, "id");
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    cJSON *msg = NULL;
    rc = fetch_parsed(m, id, &msg, err);
    if (!rc) {
        cJSON *a = er_mail_analyze(er_json_str(msg, "subject"), er_json_str(msg, "from"),
                                   er_json_str(msg, "text"));
        /* Scores and reasons are ours; the action items are the sender's words. */
        cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(a, "action_items");
        er_buf text = ER_BUF_INIT, fenced = ER_BUF_INIT;
        const cJSON *it;
        int k = 0;
        cJSON_ArrayForEach(it, items)
        {
            const char *due = er_json_str(it, "due");
            er_buf_printf(&text, "%d. %s%s%s%s\n", ++k, er_json_str(it, "text"),
                          due ? " (due: " : "", due ? due : "", due ? ")" : "");
        }
        er_json_add_str(a, "id", id);
        er_json_add_num(a, "action_item_count", k);
        if (k) {
            char *source = er_xasprintf("mail %s in %s", id, acct.name);
            er_untrusted_fence(&fenced, "action items", source, text.ptr, text.len);
            er_tools_add_text(a, "action_items", fenced.ptr, fenced.len, ER_TOOLS_BUDGET);
            free(source);
        }
        rc = er_tools_emit(out, a, err);
        er_buf_release(&text);
        er_buf_release(&fenced);
        cJSON_Delete(items);
        cJSON_Delete(a);
    }
    cJSON_Delete(msg);
    close_account(&acct, m);
    return rc;
}

/* ---- mail_thread ---- */

#define THREAD_MAX 25

/* Adds the matches of q to ids (deduplicated), up to THREAD_MAX. */
static int thread_collect(er_mail *m, const er_mail_query *q, er_strv *ids, er_error *err)
{
    er_mail_summary *v = NULL;
    size_t n = 0;
    int rc = er_mail_search(m, q, &v, &n, err);
    for (size_t i = 0; !rc && i < n && ids->n < THREAD_MAX; i++) {
        bool seen = false;
        for (size_t j = 0; j < ids->n && !seen; j++)
            seen = strcmp(ids->v[j], v[i].id) == 0;
        if (!seen)
            er_strv_push(ids, v[i].id);
    }
    er_mail_summaries_free(v, n);
    return rc;
}

/* The thread of a message: its ancestors (by References) and every message
 * that refers to the thread's root, in its folder and in Sent. */
static int thread_ids(er_mail *m, const er_mail_account *acct, const char *id, const cJSON *msg,
                      er_strv *ids, er_error *err)
{
    const char *refs = er_json_str(msg, "references"), *own = er_json_str(msg, "message_id");
    er_strv tokens = ER_STRV_INIT;
    for (const char *p = refs ? refs : ""; (p = strchr(p, '<')) != NULL;) {
        const char *gt = strchr(p, '>');
        if (!gt)
            break;
        char *t = er_xstrndup(p, (size_t)(gt - p + 1));
        er_strv_push(&tokens, t);
        free(t);
        p = gt + 1;
    }
    const char *root = tokens.n ? tokens.v[0] : own;
    char *folder = er_xstrndup(id, (size_t)(strrchr(id, ':') - id));
    const char *folders[] = { folder, acct->sent };
    int rc = 0;
    for (size_t f = 0; f < ER_ARRAY_LEN(folders) && !rc; f++) {
        if (f && strcmp(folders[f], folder) == 0)
            break;
        er_mail_query byref = { .folder = folders[f], .references = root, .limit = THREAD_MAX };
        er_mail_query byid = { .folder = folders[f], .message_id = root, .limit = 1 };
        rc = thread_collect(m, &byid, ids, err);
        for (size_t i = 1; !rc && i < tokens.n; i++) {
            byid.message_id = tokens.v[i];
            rc = thread_collect(m, &byid, ids, err);
        }
        if (!rc && !er_str_empty(own)) {
            byid.message_id = own;
            rc = thread_collect(m, &byid, ids, err);
        }
        if (!rc && !er_str_empty(root))
            rc = thread_collect(m, &byref, ids, err);
    }
    free(folder);
    er_strv_free(&tokens);
    return rc;
}

static int run_thread(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *id = er_json_str(args, "id");
    size_t max = (size_t)er_json_int(args, "max_chars", 4000, 1, MAX_CHARS);
    if (max > ER_TOOLS_BUDGET / (2 * THREAD_MAX))
        max = ER_TOOLS_BUDGET / (2 * THREAD_MAX);
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    cJSON *msg = NULL;
    er_strv ids = ER_STRV_INIT;
    rc = fetch_parsed(m, id, &msg, err);
    if (!rc)
        rc = m->be->thread ? m->be->thread(m, id, &ids, err)
                           : thread_ids(m, &acct, id, msg, &ids, err);
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    for (size_t i = 0; !rc && i < ids.n; i++) {
        cJSON *one = NULL;
        rc = fetch_parsed(m, ids.v[i], &one, err);
        if (!rc)
            er_json_append(arr, read_result(ids.v[i], one, max, acct.name));
        cJSON_Delete(one);
    }
    if (!rc) {
        er_json_add_str(o, "id", id);
        er_json_add_num(o, "count", (double)ids.n);
        er_json_add(o, "messages", arr);
        arr = NULL;
        rc = er_tools_emit(out, o, err);
    }
    cJSON_Delete(arr);
    cJSON_Delete(o);
    er_strv_free(&ids);
    cJSON_Delete(msg);
    close_account(&acct, m);
    return rc;
}

/* ---- mail_draft ---- */

/* Finds the copy of message_id in folder; *id OWNED or NULL. */
static int find_by_message_id(er_mail *m, const char *folder, const char *message_id, char **id,
                              er_error *err)
{
    *id = NULL;
    er_mail_query q = { .folder = folder, .message_id = message_id, .limit = 1 };
    er_mail_summary *v = NULL;
    size_t n = 0;
    int rc = er_mail_search(m, &q, &v, &n, err);
    if (!rc && n)
        *id = er_xstrdup(v[0].id);
    er_mail_summaries_free(v, n);
    return rc;
}

static int run_draft(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    er_mime_draft d = {
        .from = acct.from,
        .to = er_json_str(args, "to"),
        .cc = er_json_str(args, "cc"),
        .subject = er_json_str(args, "subject"),
        .body = er_json_str(args, "body"),
    };
    /* A reply threads under the message it answers. */
    const char *reply_to = er_json_str(args, "reply_to");
    cJSON *orig = NULL;
    char *refs = NULL;
    if (!er_str_empty(reply_to)) {
        rc = fetch_parsed(m, reply_to, &orig, err);
        if (!rc) {
            d.in_reply_to = er_json_str(orig, "message_id");
            const char *r = er_json_str(orig, "references");
            refs = er_xasprintf("%s%s%s", er_str_empty(r) ? "" : r, er_str_empty(r) ? "" : " ",
                                d.in_reply_to);
            d.references = refs;
        }
    }
    char *mid = er_mime_new_message_id(acct.from);
    d.message_id = mid;
    er_buf msg = ER_BUF_INIT;
    if (!rc)
        rc = er_mime_build(&msg, &d, err);
    if (!rc)
        rc = er_mail_append(m, acct.drafts, "\\Draft \\Seen", msg.ptr, msg.len, err);
    char *id = NULL;
    if (!rc)
        rc = find_by_message_id(m, acct.drafts, mid, &id, err);
    if (!rc) {
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "draft_id", id ? id : "");
        er_json_add_str(o, "message_id", mid);
        er_json_add_str(o, "folder", acct.drafts);
        er_json_add_str(o, "to", d.to);
        er_json_add_str(o, "subject", d.subject ? d.subject : "");
        er_json_add_str(o, "note",
                        "saved as a draft; nothing was sent (mail_send sends it "
                        "after the user's approval)");
        rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    free(id);
    free(mid);
    free(refs);
    cJSON_Delete(orig);
    er_buf_release(&msg);
    close_account(&acct, m);
    return rc;
}

/* ---- mail_send ---- */

/* The message to send: the draft named, or one built from the arguments. */
static int outgoing(er_mail *m, const er_mail_account *acct, const cJSON *args, er_buf *raw,
                    cJSON **parsed, er_error *err)
{
    const char *draft = er_json_str(args, "draft_id");
    int rc;
    if (!er_str_empty(draft)) {
        rc = er_mail_fetch(m, draft, raw, err);
    } else {
        char *mid = er_mime_new_message_id(acct->from);
        er_mime_draft d = { .from = acct->from,
                            .to = er_json_str(args, "to"),
                            .cc = er_json_str(args, "cc"),
                            .subject = er_json_str(args, "subject"),
                            .body = er_json_str(args, "body"),
                            .message_id = mid };
        rc = er_mime_build(raw, &d, err);
        free(mid);
    }
    if (!rc)
        rc = er_mime_parse(parsed, raw->ptr, raw->len, err);
    if (!rc && er_str_empty(er_json_str(*parsed, "message_id")))
        rc = er_error_set(err, ER_EINVAL,
                          "the message has no Message-ID: it cannot be sent "
                          "safely");
    return rc;
}

static int send_recorded(er_mail *m, const er_mail_account *acct, const cJSON *msg,
                         const er_buf *raw, er_error *err)
{
    const char *mid = er_json_str(msg, "message_id");
    er_strv rcpts = ER_STRV_INIT;
    int rc = er_mime_addresses(&rcpts, er_json_str(msg, "to"), err);
    if (!rc)
        rc = er_mime_addresses(&rcpts, er_json_str(msg, "cc"), err);
    /* Recorded before the SMTP transaction: a retry finds it and stops.  A
     * provider that files sent mail itself is searched instead. */
    if (!rc && !m->be->files_sent)
        rc = er_mail_append(m, acct->sent, "\\Seen " PENDING_FLAG, raw->ptr, raw->len, err);
    char *sent_id = NULL;
    if (!rc && !m->be->files_sent)
        rc = find_by_message_id(m, acct->sent, mid, &sent_id, err);
    if (!rc) {
        rc = er_mail_send(m, acct->from, &rcpts, raw->ptr, raw->len, err);
        if (sent_id) {
            er_error ignore = { 0 };
            if (rc) /* not sent: the copy must not stop a later attempt */
                er_mail_flag(m, sent_id, "\\Deleted", true, &ignore);
            else
                er_mail_flag(m, sent_id, PENDING_FLAG, false, &ignore);
        }
    }
    free(sent_id);
    er_strv_free(&rcpts);
    return rc;
}

static int run_send(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *draft = er_json_str(args, "draft_id");
    if (er_str_empty(draft) && er_str_empty(er_json_str(args, "to")))
        return er_error_set(err, ER_EINVAL,
                            "give draft_id (a draft from mail_draft) or to, "
                            "subject and body");
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    er_buf raw;
    er_buf_init(&raw, (size_t)32 << 20);
    cJSON *msg = NULL;
    char *already = NULL;
    rc = outgoing(m, &acct, args, &raw, &msg, err);
    if (!rc)
        rc = find_by_message_id(m, acct.sent, er_json_str(msg, "message_id"), &already, err);
    if (!rc && !already)
        rc = send_recorded(m, &acct, msg, &raw, err);
    if (!rc && !already && !er_str_empty(draft)) {
        er_error ignore = { 0 };
        er_mail_flag(m, draft, "\\Deleted", true, &ignore); /* the draft is now sent */
    }
    if (!rc) {
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "message_id", er_json_str(msg, "message_id"));
        er_json_add_bool(o, "sent", already == NULL);
        er_json_add_bool(o, "already_sent", already != NULL);
        if (already)
            er_json_add_str(o, "note",
                            "a message with this Message-ID is already in the Sent "
                            "folder: not sent again");
        er_json_add_str(o, "to", er_json_str(msg, "to"));
        rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    free(already);
    cJSON_Delete(msg);
    er_buf_release(&raw);
    close_account(&acct, m);
    return rc;
}

/* ---- mail_attachment ---- */

/* Writes data to the new file path of the workspace (never over a file). */
static int save_new(const er_tool_ctx *ctx, const char *path, const er_buf *data, char **abs,
                    er_error *err)
{
    er_workspace ws;
    int rc = er_tools_workspace(&ws, ctx, err);
    if (rc)
        return rc;
    int fd = -1;
    rc = er_workspace_resolve(abs, &ws, path, err);
    if (!rc)
        rc = er_workspace_mkdirs(&ws, *abs, err);
    if (!rc)
        rc = er_workspace_open(&fd, &ws, *abs, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, err);
    if (rc == ER_EIO && errno == EEXIST)
        rc = er_error_set(err, ER_EEXISTS, "%s exists already: give another path", path);
    for (size_t off = 0; !rc && off < data->len;) {
        ssize_t n = write(fd, data->ptr + off, data->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = er_error_set(err, ER_EIO, "cannot write %s: %s", path, strerror(errno));
        else
            off += (size_t)n;
    }
    if (fd >= 0 && close(fd) != 0 && !rc)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", path, strerror(errno));
    er_workspace_release(&ws);
    return rc;
}

static int run_attachment(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    int rc = er_tools_need_writable(ctx, err);
    if (rc)
        return rc;
    const char *id = er_json_str(args, "id"), *path = er_json_str(args, "path");
    int part = (int)er_json_int(args, "part", 0, 0, 1000);
    er_mail_account acct;
    er_mail *m = NULL;
    if ((rc = open_account(ctx, args, &acct, &m, err)))
        return rc;
    er_buf raw, data;
    er_buf_init(&raw, (size_t)32 << 20);
    er_buf_init(&data, (size_t)32 << 20);
    char *filename = NULL, *abs = NULL;
    rc = er_mail_fetch(m, id, &raw, err);
    if (!rc)
        rc = er_mime_attachment(&data, &filename, raw.ptr, raw.len, part, err);
    if (!rc)
        rc = save_new(ctx, path, &data, &abs, err);
    if (!rc) {
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "id", id);
        er_json_add_num(o, "part", part);
        er_json_add_str(o, "path", path);
        er_json_add_num(o, "bytes", (double)data.len);
        rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    free(filename);
    free(abs);
    er_buf_release(&raw);
    er_buf_release(&data);
    close_account(&acct, m);
    return rc;
}

/* ---- mail_mark, mail_move ---- */

static int run_mark(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *id = er_json_str(args, "id");
    const cJSON *read = cJSON_GetObjectItemCaseSensitive(args, "read");
    const cJSON *flagged = cJSON_GetObjectItemCaseSensitive(args, "flagged");
    if (!cJSON_IsBool(read) && !cJSON_IsBool(flagged))
        return er_error_set(err, ER_EINVAL, "say read and/or flagged (true or false)");
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    if (cJSON_IsBool(read))
        rc = er_mail_flag(m, id, "\\Seen", cJSON_IsTrue(read), err);
    if (!rc && cJSON_IsBool(flagged))
        rc = er_mail_flag(m, id, "\\Flagged", cJSON_IsTrue(flagged), err);
    if (!rc) {
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "id", id);
        if (cJSON_IsBool(read))
            er_json_add_bool(o, "read", cJSON_IsTrue(read));
        if (cJSON_IsBool(flagged))
            er_json_add_bool(o, "flagged", cJSON_IsTrue(flagged));
        rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    close_account(&acct, m);
    return rc;
}

static int run_move(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *id = er_json_str(args, "id"), *folder = er_json_str(args, "folder");
    er_mail_account acct;
    er_mail *m = NULL;
    int rc = open_account(ctx, args, &acct, &m, err);
    if (rc)
        return rc;
    char *new_id = NULL;
    rc = er_mail_move(m, id, folder, &new_id, err);
    if (!rc) {
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "id", id);
        er_json_add_str(o, "moved_to", folder);
        rc = er_tools_emit(out, o, err);
        cJSON_Delete(o);
    }
    free(new_id);
    close_account(&acct, m);
    return rc;
}

#define ACCOUNT_PROP                                                        \
    "\"account\":{\"type\":\"string\",\"description\":\"mail account name " \
    "(default: mail.account)\"}"

static const er_tool mail_tools[] = {
    { "mail_folders", "List the folders (mailboxes) of a mail account.",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP "},\"additionalProperties\":false}",
      ER_PERM_NETWORK, "folders", run_folders, true },
    { "mail_search",
      "Search a mail folder. Returns message ids (FOLDER:UID, newest first) and a listing of "
      "senders and subjects fenced as untrusted data. Read one with mail_read.",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"folder\":{\"type\":\"string\",\"description\":\"default INBOX\"},"
      "\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},"
      "\"subject\":{\"type\":\"string\"},"
      "\"text\":{\"type\":\"string\",\"description\":\"words in the headers or body\"},"
      "\"since\":{\"type\":\"string\",\"description\":\"YYYY-MM-DD\"},"
      "\"before\":{\"type\":\"string\",\"description\":\"YYYY-MM-DD\"},"
      "\"message_id\":{\"type\":\"string\"},"
      "\"unread\":{\"type\":\"boolean\",\"description\":\"only unread messages\"},"
      "\"limit\":{\"type\":\"integer\",\"description\":\"1-200, default 20\"}},"
      "\"additionalProperties\":false}",
      ER_PERM_NETWORK, "inbox [LIMIT]", run_search, true },
    { "mail_read",
      "Read one message: headers, text body (HTML turned into text) and attachment list, "
      "fenced as untrusted data. Reading does not mark it read unless mark_read is true.",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"id\":{\"type\":\"string\",\"description\":\"message id from mail_search\"},"
      "\"max_chars\":{\"type\":\"integer\",\"description\":\"bytes of body shown (default "
      "20000)\"},"
      "\"mark_read\":{\"type\":\"boolean\"}},"
      "\"required\":[\"id\"],\"additionalProperties\":false}",
      ER_PERM_NETWORK, "read ID", run_read, true },
    { "mail_analyze",
      "Score a message offline with transparent word lists: importance, category, sentiment "
      "(each with the words that decided it) and action items with due dates (fenced).",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"id\":{\"type\":\"string\",\"description\":\"message id from mail_search\"}},"
      "\"required\":[\"id\"],\"additionalProperties\":false}",
      ER_PERM_NETWORK, "analyze ID", run_analyze, true },
    { "mail_thread",
      "Read the whole conversation a message belongs to (its folder and Sent, by References), "
      "each message fenced as untrusted data.",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"id\":{\"type\":\"string\",\"description\":\"message id from mail_search\"},"
      "\"max_chars\":{\"type\":\"integer\",\"description\":\"bytes of each body shown "
      "(default 4000)\"}},"
      "\"required\":[\"id\"],\"additionalProperties\":false}",
      ER_PERM_NETWORK, "thread ID", run_thread, true },
    { "mail_draft",
      "Save a message as a draft in the Drafts folder (nothing is sent). With reply_to (a "
      "message id) it is threaded as a reply (In-Reply-To, References).",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"to\":{\"type\":\"string\",\"description\":\"addresses, comma-separated\"},"
      "\"cc\":{\"type\":\"string\"},\"subject\":{\"type\":\"string\"},"
      "\"body\":{\"type\":\"string\",\"description\":\"plain text\"},"
      "\"reply_to\":{\"type\":\"string\",\"description\":\"id of the message answered\"}},"
      "\"required\":[\"to\",\"subject\",\"body\"],\"additionalProperties\":false}",
      ER_PERM_WRITE, "draft TO SUBJECT BODY...", run_draft, false },
    { "mail_send",
      "Send a draft (draft_id) or a new message (to, subject, body). Needs the user's "
      "approval. A message whose Message-ID is already in Sent is not sent again.",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"draft_id\":{\"type\":\"string\",\"description\":\"id from mail_draft\"},"
      "\"to\":{\"type\":\"string\"},\"cc\":{\"type\":\"string\"},"
      "\"subject\":{\"type\":\"string\"},\"body\":{\"type\":\"string\"}},"
      "\"additionalProperties\":false}",
      ER_PERM_SEND, NULL, run_send, false },
    { "mail_attachment",
      "Save attachment number part of a message (as mail_read lists them) to a new file of "
      "the workspace; an existing file is never overwritten.",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"id\":{\"type\":\"string\"},\"part\":{\"type\":\"integer\"},"
      "\"path\":{\"type\":\"string\",\"description\":\"workspace-relative file to create\"}},"
      "\"required\":[\"id\",\"part\",\"path\"],\"additionalProperties\":false}",
      ER_PERM_WRITE, NULL, run_attachment, false },
    { "mail_mark", "Mark a message read or unread, flagged or not.",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"id\":{\"type\":\"string\"},\"read\":{\"type\":\"boolean\"},"
      "\"flagged\":{\"type\":\"boolean\"}},"
      "\"required\":[\"id\"],\"additionalProperties\":false}",
      ER_PERM_WRITE, NULL, run_mark, true },
    { "mail_move", "Move a message to another folder (e.g. Archive).",
      "{\"type\":\"object\",\"properties\":{" ACCOUNT_PROP ","
      "\"id\":{\"type\":\"string\"},\"folder\":{\"type\":\"string\"}},"
      "\"required\":[\"id\",\"folder\"],\"additionalProperties\":false}",
      ER_PERM_WRITE, NULL, run_move, false },
};

const er_tool_family er_tools_mail = { "mail", mail_tools, ER_ARRAY_LEN(mail_tools) };
