/* mail.c — the mail seam: accounts from the configuration, the TLS rule,
 * and dispatch to the backend chosen by the account's URL. */
#include "errand/mail.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/mail_cache.h"
#include "errand/str.h"
#include "errand/url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Messages the cache keeps for a scope whose server has more (the newest). */
#define CACHE_MAX 5000

static const er_mail_backend *const backends[] = { &er_mail_imap_backend, &er_mail_gmail_backend };

void er_mail_account_names(er_strv *out, const er_config *cfg)
{
    er_config_section_names(out, &cfg->mail_settings);
}

/* The first line of a file, for password_file. */
static int read_secret_file(char **out, const char *path, er_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return er_error_set(err, ER_EIO, "cannot read mail password file '%s': %s", path,
                            strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        return er_error_set(err, ER_EINVAL, "mail password file '%s' is empty", path);
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    *out = line;
    return 0;
}

static int read_password(er_mail_account *a, const er_config *cfg, er_error *err)
{
    const char *var = er_config_mail(cfg, a->name, "password_env");
    const char *file = er_config_mail(cfg, a->name, "password_file");
    if (var) {
        const char *v = getenv(var);
        if (er_str_empty(v))
            return er_error_set(err, ER_ENOTFOUND,
                                "mail account '%s': $%s (password_env) is "
                                "not set",
                                a->name, var);
        a->password = er_xstrdup(v);
    } else if (file) {
        int rc = read_secret_file(&a->password, file, err);
        if (rc)
            return rc;
    }
    if (a->password)
        er_log_add_secret(a->password);
    return 0;
}

int er_mail_account_resolve(er_mail_account *out, const er_config *cfg, const char *account,
                            er_error *err)
{
    memset(out, 0, sizeof *out);
    er_strv names = ER_STRV_INIT;
    er_mail_account_names(&names, cfg);
    const char *want = !er_str_empty(account) ? account : cfg->mail_account;
    if (!want && names.n)
        want = names.v[0];
    int rc = 0;
    const char *provider = names.n ? er_config_mail(cfg, want, "provider") : NULL;
    bool gmail = provider && strcasecmp(provider, "gmail") == 0;
    if (names.n == 0)
        rc = er_error_set(err, ER_ENOTFOUND,
                          "no mail account configured: add a [mail.NAME] "
                          "section with imap_url, smtp_url and user (man errand.conf)");
    else if (provider && !gmail)
        rc = er_error_set(err, ER_EINVAL,
                          "mail account '%s': unknown provider '%s' (gmail, or leave it out "
                          "and set imap_url)",
                          want, provider);
    else if (gmail && !er_config_mail(cfg, want, "from") && !er_config_mail(cfg, want, "user"))
        rc = er_error_set(err, ER_ENOTFOUND,
                          "mail account '%s' (gmail) needs from: the mailbox's address", want);
    else if (!gmail && !er_config_mail(cfg, want, "imap_url"))
        rc = er_error_set(err, ER_ENOTFOUND,
                          "mail account '%s' has no imap_url (configured: "
                          "%s%s)",
                          want, names.v[0], names.n > 1 ? ", …" : "");
    if (!rc) {
        out->name = er_xstrdup(want);
        out->imap_url = er_config_mail(cfg, want, "imap_url");
        out->smtp_url = er_config_mail(cfg, want, "smtp_url");
        out->user = er_config_mail(cfg, want, "user");
        out->from = er_config_mail(cfg, want, "from");
        out->sent = er_config_mail(cfg, want, "sent");
        out->drafts = er_config_mail(cfg, want, "drafts");
        if (!out->from)
            out->from = out->user;
        if (!out->sent)
            out->sent = gmail ? "SENT" : "Sent";
        if (!out->drafts)
            out->drafts = gmail ? "DRAFT" : "Drafts";
        out->cfg = cfg;
        if (gmail) {
            out->provider = "gmail";
            out->credential = er_config_mail(cfg, want, "credential");
            if (!out->credential)
                out->credential = out->name;
        } else {
            rc = read_password(out, cfg, err);
        }
    }
    er_strv_free(&names);
    if (rc)
        er_mail_account_release(out);
    return rc;
}

void er_mail_account_release(er_mail_account *a)
{
    if (a->password) {
        explicit_bzero(a->password, strlen(a->password));
        free(a->password);
    }
    free(a->name);
    memset(a, 0, sizeof *a);
}

static bool host_is_loopback(const char *host)
{
    if (!host)
        return false;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    char h[64];
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof h) {
        memcpy(h, host + 1, hl - 2);
        h[hl - 2] = '\0';
        host = h;
    }
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

int er_mail_check_url(const char *url, bool *loopback, er_error *err)
{
    er_url u;
    int rc = er_url_parse(&u, url, err);
    if (rc)
        return rc;
    bool lo = host_is_loopback(u.host);
    const char *sc = u.scheme;
    if (!u.host)
        rc = er_error_set(err, ER_EINVAL, "mail URL '%s' names no host", url);
    else if (strcmp(sc, "imaps") != 0 && strcmp(sc, "smtps") != 0 && strcmp(sc, "imap") != 0 &&
             strcmp(sc, "smtp") != 0)
        rc = er_error_set(err, ER_EINVAL,
                          "mail URL '%s': use imaps://, imap://, smtps:// or "
                          "smtp://",
                          url);
    else if (strcmp(sc, "imap") == 0 && !lo)
        rc = er_error_set(err, ER_EDENIED,
                          "mail URL '%s': plain imap:// is allowed only to a "
                          "loopback host; use imaps://",
                          url);
    er_url_release(&u);
    if (!rc && loopback)
        *loopback = lo;
    return rc;
}

/* The cache is on unless the account says cache = off, and needs the store
 * or (networked) the shared cache. */
static int open_cached(er_mail **out, const er_mail_backend *be, const er_mail_account *acct,
                       er_error *err)
{
    int rc = be->open(out, acct, err);
    const char *setting = acct->cfg ? er_config_mail(acct->cfg, acct->name, "cache") : NULL;
    bool off = setting && (strcasecmp(setting, "off") == 0 || strcasecmp(setting, "false") == 0 ||
                           strcmp(setting, "0") == 0 || strcasecmp(setting, "no") == 0);
    if (!rc && !off && be->version >= 3 && be->refresh) {
        char *origin = er_xasprintf("%s %s", acct->user ? acct->user : "",
                                    acct->provider ? (acct->credential ? acct->credential : "")
                                                   : (acct->imap_url ? acct->imap_url : ""));
        rc = er_mail_cache_open(&(*out)->cache, acct, origin, err);
        free(origin);
        (*out)->cache_max = CACHE_MAX;
        if (rc) {
            er_mail_close(*out);
            *out = NULL;
        }
    }
    return rc;
}

int er_mail_open(er_mail **out, const er_mail_account *acct, er_error *err)
{
    *out = NULL;
    if (acct->provider)
        return open_cached(out, &er_mail_gmail_backend, acct, err);
    if (!acct->imap_url)
        return er_error_set(err, ER_EINVAL, "mail account '%s' has no imap_url", acct->name);
    for (size_t i = 0; i < ER_ARRAY_LEN(backends); i++) {
        size_t sl = strlen(backends[i]->scheme);
        if (strncasecmp(acct->imap_url, backends[i]->scheme, sl) == 0)
            return open_cached(out, backends[i], acct, err);
    }
    return er_error_set(err, ER_EINVAL, "mail account '%s': no backend for '%s'", acct->name,
                        acct->imap_url);
}

void er_mail_close(er_mail *m)
{
    if (m) {
        er_mail_cache_close(m->cache);
        m->be->close(m);
    }
}

int er_mail_folders(er_mail *m, er_strv *out, er_error *err)
{
    return m->be->folders(m, out, err);
}

er_mail_meta *er_mail_delta_add(er_mail_delta *d)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 32;
        d->v = er_xrealloc(d->v, d->cap * sizeof *d->v);
    }
    er_mail_meta *m = &d->v[d->n++];
    memset(m, 0, sizeof *m);
    return m;
}

void er_mail_delta_release(er_mail_delta *d)
{
    for (size_t i = 0; i < d->n; i++) {
        er_mail_summary_release(&d->v[i].s);
        free(d->v[i].labels);
    }
    free(d->v);
    er_strv_free(&d->removed);
    er_strv_free(&d->keep);
    memset(d, 0, sizeof *d);
}

int er_mail_date_day(const char *date)
{
    if (er_str_empty(date))
        return 0;
    const char *comma = strchr(date, ',');
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!strptime(comma ? comma + 1 : date, " %d %b %Y", &tm))
        return 0;
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static bool ascii(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* What the cache can answer: header fields and flags, not body text (nor,
 * for a mailbox-wide cache, the bins it does not hold); non-ASCII text is
 * matched by the server, whose case folding knows more than LOWER's. */
static bool cacheable(const er_mail *m, const er_mail_query *q)
{
    if (!er_str_empty(q->text) || !er_str_empty(q->references))
        return false;
    if (!ascii(q->from) || !ascii(q->to) || !ascii(q->subject))
        return false;
    if (m->be->refresh_mailbox && q->folder &&
        (strcasecmp(q->folder, "TRASH") == 0 || strcasecmp(q->folder, "SPAM") == 0))
        return false;
    return true;
}

/* Brings the scope's cache up to the server; *label as the backend's refresh. */
static int refresh_scope(er_mail *m, const char *folder, const char *scope, er_mail_sync *state,
                         char **label, er_error *err)
{
    /* ER_ECONFLICT: another worker refreshed the scope meanwhile; a
     * refresh from its state is quick (most often: nothing changed) */
    int rc = ER_ECONFLICT;
    for (int attempt = 0; rc == ER_ECONFLICT && attempt < 4; attempt++) {
        bool found = false;
        free(*label);
        *label = NULL;
        rc = m->cache->ops->state(m->cache, scope, state, &found, err);
        er_mail_delta d = { 0 };
        er_mail_sync before = *state;
        if (!rc)
            rc = m->be->refresh(m, folder, state, m->cache_max, &d, label, err);
        /* An unchanged mailbox (the common case) writes nothing. */
        bool same = found && before.validity == state->validity && before.next == state->next &&
                    before.modseq == state->modseq && before.count == state->count &&
                    before.complete == state->complete && !d.reset && d.n == 0 &&
                    d.removed.n == 0 && !d.prune;
        if (!rc && !same)
            rc = m->cache->ops->apply(m->cache, scope, state, &d, err);
        er_mail_delta_release(&d);
    }
    return rc;
}

/* Refreshes the scope, then queries it; *answered false when the cache,
 * holding only the newest messages, found fewer than asked for. */
static int cached_search(er_mail *m, const er_mail_query *q, er_mail_summary **out, size_t *n,
                         bool *answered, er_error *err)
{
    const char *folder = er_str_empty(q->folder) ? "INBOX" : q->folder;
    const char *scope = m->be->refresh_mailbox ? "" : folder;
    er_mail_sync state;
    char *label = NULL;
    static const char *const bins[] = { "TRASH", "SPAM", NULL };
    int rc = ER_ECONFLICT;
    /* ER_ECONFLICT from the query: what the scope's cache held was gone (a
     * shared cache's entries expire); the refresh fills it again */
    for (int attempt = 0; rc == ER_ECONFLICT && attempt < 2; attempt++) {
        rc = refresh_scope(m, folder, scope, &state, &label, err);
        if (!rc)
            rc = m->cache->ops->query(m->cache, scope, q, label,
                                      m->be->refresh_mailbox ? bins : NULL, out, n, err);
    }
    free(label);
    size_t limit = q->limit ? q->limit : 20;
    *answered = !rc && (state.complete || *n >= limit);
    return rc;
}

int er_mail_search(er_mail *m, const er_mail_query *q, er_mail_summary **out, size_t *n,
                   er_error *err)
{
    *out = NULL;
    *n = 0;
    if (m->cache && cacheable(m, q)) {
        bool answered = false;
        er_error e = { 0 };
        int rc = cached_search(m, q, out, n, &answered, &e);
        if (!rc && answered)
            return 0;
        if (rc == ER_EAUTH) /* the server would say the same */
            return er_error_set(err, rc, "%s", e.msg);
        if (rc)
            er_log(ER_LOG_WARN, "mail", "mail cache (%s): %s; asking the server",
                   m->cache->ops->name, e.msg);
        er_mail_summaries_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return m->be->search(m, q, out, n, err);
}

void er_mail_summaries_free(er_mail_summary *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        er_mail_summary_release(&v[i]);
    free(v);
}

void er_mail_summary_release(er_mail_summary *s)
{
    free(s->id);
    free(s->from);
    free(s->to);
    free(s->subject);
    free(s->date);
    free(s->message_id);
    memset(s, 0, sizeof *s);
}

int er_mail_fetch(er_mail *m, const char *id, er_buf *raw, er_error *err)
{
    return m->be->fetch(m, id, raw, err);
}

int er_mail_append(er_mail *m, const char *folder, const char *flags, const char *raw, size_t len,
                   er_error *err)
{
    return m->be->append(m, folder, flags, raw, len, err);
}

int er_mail_send(er_mail *m, const char *from, const er_strv *rcpts, const char *raw, size_t len,
                 er_error *err)
{
    return m->be->send(m, from, rcpts, raw, len, err);
}

int er_mail_flag(er_mail *m, const char *id, const char *flags, bool add, er_error *err)
{
    return m->be->flag(m, id, flags, add, err);
}

int er_mail_move(er_mail *m, const char *id, const char *folder, char **new_id, er_error *err)
{
    if (new_id)
        *new_id = NULL;
    return m->be->move(m, id, folder, new_id, err);
}
