/* test_memory.c — shared memory (memory.h, store_memory.h) on every backend.
 *
 * Runs against $ERRAND_TEST_DATABASE_URL when set (backend.memory.postgres
 * sets a PostgreSQL URL; each part gets its own schema) and otherwise against
 * fresh SQLite files.  The same checks for both: save, update by content,
 * forget, expiry, full-text ranking, hybrid search finding a paraphrase that
 * full text misses (fake_llm's deterministic embeddings), the embedding cache
 * and batching, scope and user filters, the approximate index path. */
#include "check.h"
#include "fakes/fake_llm_proc.h"
#include "errand/alloc.h"
#include "errand/backend/store_backend.h"
#include "errand/memory.h"
#include "errand/store_entities.h"
#include "errand/str.h"
#include "errand/vecindex.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FRESH 16

static const char *pg_base;
static char tmpdir[256];
static er_store *admin;
static char schemas[MAX_FRESH][64];
static int nfresh;

static er_store *open_fresh(void)
{
    int n = nfresh++;
    char url[1024];
    er_error err;
    if (n >= MAX_FRESH) {
        fprintf(stderr, "test_memory: raise MAX_FRESH\n");
        exit(1);
    }
    if (!pg_base) {
        snprintf(url, sizeof url, "sqlite://%s/db%d/store.db", tmpdir, n);
    } else {
        snprintf(schemas[n], sizeof schemas[n], "errand_mem_%ld_%d", (long)getpid(), n);
        char *sql = er_xasprintf("CREATE SCHEMA %s", schemas[n]);
        CHECK_OK(er_sql_exec(admin, sql, NULL, 0, NULL, &err));
        free(sql);
        snprintf(url, sizeof url, "%s%coptions=-c%%20search_path%%3D%s", pg_base,
                 strchr(pg_base, '?') ? '&' : '?', schemas[n]);
    }
    er_store *st = NULL;
    CHECK_OK(er_store_open(&st, url, &err));
    if (!st) {
        fprintf(stderr, "cannot go on without a store\n");
        exit(1);
    }
    CHECK_OK(er_store_migrate(st, NULL, &err));
    return st;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    er_error err;
    for (int i = 0; admin && i < nfresh; i++) {
        char *sql = er_xasprintf("DROP SCHEMA IF EXISTS %s CASCADE", schemas[i]);
        CHECK_OK(er_sql_exec(admin, sql, NULL, 0, NULL, &err));
        free(sql);
    }
    er_store_close(admin);
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void item_init(er_memory_item *it, const char *text, const char *user, const char *scope)
{
    memset(it, 0, sizeof *it);
    it->text = (char *)text;
    it->user_id = (char *)user;
    it->scope = (char *)scope;
    it->kind = (char *)"fact";
}

static er_memory *open_memory_q(er_store *st, const char *model, const char *base, int exact_max,
                                bool int8)
{
    er_memory_opts o;
    memset(&o, 0, sizeof o);
    o.embed.model = model;
    o.embed.base_url = base;
    o.exact_max = exact_max;
    o.int8 = int8;
    er_memory *m = NULL;
    er_error err;
    CHECK_OK(er_memory_open(&m, st, &o, &err));
    return m;
}

static er_memory *open_memory(er_store *st, const char *model, const char *base, int exact_max)
{
    return open_memory_q(st, model, base, exact_max, false);
}

static int count_item(const er_memory_item *it, void *payload)
{
    (void)it;
    (*(int *)payload)++;
    return 0;
}

static int list_count(er_store *st, const er_memory_filter *f)
{
    int n = 0;
    er_error err;
    CHECK_OK(er_store_memory_list(st, f, count_item, &n, &err));
    return n;
}

/* Where text is among the hits: 1-based, 0 when absent. */
static int rank_of(const er_memory_hit *h, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].item.text, text) == 0)
            return (int)i + 1;
    return 0;
}

/* ---- the store part ---- */

static void test_save_update_forget(void)
{
    er_store *st = open_fresh();
    er_memory *m = open_memory(st, NULL, NULL, 0);
    er_error err;
    char uid[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "ann", NULL, uid, &err));

    er_memory_item a;
    bool created = false;
    item_init(&a, "Ann prefers tea over coffee", uid, "user");
    a.source = (char *)"task-1";
    CHECK_OK(er_memory_save(m, &a, 1, &created, &err));
    CHECK(created);
    CHECK_INT(strlen(a.hash), 64);
    char first_id[ER_ID_LEN];
    memcpy(first_id, a.id, ER_ID_LEN);

    /* the same text again: the same item, updated */
    er_memory_item b;
    item_init(&b, "Ann prefers tea over coffee", uid, "user");
    b.kind = (char *)"preference";
    b.untrusted = true;
    CHECK_OK(er_memory_save(m, &b, 1, &created, &err));
    CHECK(!created);
    CHECK_STR(b.id, first_id);
    er_memory_item got;
    CHECK_OK(er_store_memory_get(st, first_id, &got, &err));
    CHECK_STR(got.kind, "preference");
    CHECK(got.untrusted);
    CHECK_STR(got.source, "");
    er_memory_item_release(&got);
    /* saved once more by a trusted hand: still marked (it came from outside) */
    item_init(&b, "Ann prefers tea over coffee", uid, "user");
    CHECK_OK(er_memory_save(m, &b, 1, &created, &err));
    CHECK_OK(er_store_memory_get(st, first_id, &got, &err));
    CHECK(got.untrusted);
    er_memory_item_release(&got);

    /* the same text in another scope is another item */
    item_init(&b, "Ann prefers tea over coffee", uid, "conversation");
    b.scope_id = (char *)"conv-9";
    CHECK_OK(er_memory_save(m, &b, 1, &created, &err));
    CHECK(created);
    CHECK(strcmp(b.id, first_id) != 0);
    er_memory_filter f = { 0 };
    CHECK_INT(list_count(st, &f), 2);
    f.scope = "conversation";
    CHECK_INT(list_count(st, &f), 1);

    /* one vector for the one text (the cache) */
    int64_t count = 0, max_seq = 0;
    CHECK_OK(er_store_memory_vec_stat(st, er_memory_model(m), &count, &max_seq, &err));
    CHECK_INT(count, 1);

    /* bad input */
    item_init(&b, "", uid, "user");
    CHECK(er_memory_save(m, &b, 1, NULL, &err) == ER_EINVAL);
    item_init(&b, "text", uid, "planet");
    CHECK(er_memory_save(m, &b, 1, NULL, &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "planet") != NULL);

    /* forget: another user cannot, the owner can; the vector stays while used */
    char other[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "bob", NULL, other, &err));
    CHECK(er_store_memory_forget(st, first_id, other, &err) == ER_ENOTFOUND);
    CHECK_OK(er_store_memory_forget(st, first_id, uid, &err));
    CHECK(er_store_memory_get(st, first_id, &got, &err) == ER_ENOTFOUND);
    CHECK_OK(er_store_memory_vec_stat(st, er_memory_model(m), &count, &max_seq, &err));
    CHECK_INT(count, 1);
    f.scope = NULL;
    CHECK_INT(list_count(st, &f), 1);

    /* expiry: an expired item is not seen, and expire deletes it and its vector */
    er_memory_item e;
    item_init(&e, "the build server restarts at midnight", uid, "global");
    e.expires_ms = er_time_ms() - 1000;
    CHECK_OK(er_memory_save(m, &e, 1, NULL, &err));
    CHECK(er_store_memory_get(st, e.id, &got, &err) == ER_ENOTFOUND);
    int64_t gone = 0;
    CHECK_OK(er_store_memory_expire(st, er_time_ms(), &gone, &err));
    CHECK_INT(gone, 1);

    /* a deleted user's memories go with them */
    CHECK_OK(er_store_user_delete(st, "ann", &err));
    CHECK_INT(list_count(st, &f), 0);
    er_memory_close(m);
    er_store_close(st);
}

static void test_text_ranking(void)
{
    er_store *st = open_fresh();
    er_memory *m = open_memory(st, NULL, NULL, 0);
    er_error err;
    const char *texts[] = {
        "The deploy script lives in tools and needs bash",
        "Kubernetes manifests are generated by kustomize in the deploy folder",
        "Lunch is at noon on Fridays",
        "The staging database is PostgreSQL 15",
    };
    er_memory_item items[4];
    for (int i = 0; i < 4; i++)
        item_init(&items[i], texts[i], "", "global");
    CHECK_OK(er_memory_save(m, items, 4, NULL, &err));

    er_memory_query q = { .text = "kustomize", .mode = ER_MEMORY_TEXT };
    er_memory_hit *h = NULL;
    size_t n = 0;
    CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
    CHECK_INT(n, 1);
    if (n)
        CHECK_STR(h[0].item.text, texts[1]);
    er_memory_hits_free(h, n);

    /* the document with the exact term ranks first; stems match ("deploying") */
    q.text = "which database does staging use?";
    CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
    CHECK(n >= 1);
    if (n) {
        CHECK_STR(h[0].item.text, texts[3]);
        CHECK(h[0].text_rank == 1 && h[0].text_score > 0);
    }
    er_memory_hits_free(h, n);
    q.text = "deploying";
    CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
    CHECK_INT(n, 2);
    er_memory_hits_free(h, n);

    /* operators and quotes are words, not syntax */
    q.text = "\"deploy\" OR (lunch* -noon) NEAR/2 ' ; DROP TABLE memory_items";
    CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
    CHECK(n >= 2);
    er_memory_hits_free(h, n);
    q.text = "!!! ...";
    CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
    CHECK_INT(n, 0);
    er_memory_hits_free(h, n);
    q.text = "";
    CHECK(er_memory_search(m, &q, &h, &n, &err) == ER_EINVAL);
    er_memory_close(m);
    er_store_close(st);
}

static void test_filters(void)
{
    er_store *st = open_fresh();
    er_memory *m = open_memory(st, NULL, NULL, 0);
    er_error err;
    char ann[ER_ID_LEN], bob[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "ann", NULL, ann, &err));
    CHECK_OK(er_store_user_ensure(st, "bob", NULL, bob, &err));
    er_memory_item it[3];
    item_init(&it[0], "ann's locker code is 4411", ann, "user");
    item_init(&it[1], "bob's locker code is 9876", bob, "user");
    item_init(&it[2], "the office locker room opens at seven", "", "global");
    CHECK_OK(er_memory_save(m, it, 3, NULL, &err));
    /* each user sees their own and the shared, by words and by vectors */
    for (int mode = ER_MEMORY_HYBRID; mode <= ER_MEMORY_VECTOR; mode++) {
        er_memory_query q = { .text = "locker code", .mode = (er_memory_mode)mode };
        q.filter.user_id = ann;
        er_memory_hit *h = NULL;
        size_t n = 0;
        CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
        CHECK(rank_of(h, n, "bob's locker code is 9876") == 0);
        CHECK(rank_of(h, n, "ann's locker code is 4411") > 0);
        er_memory_hits_free(h, n);
    }
    er_memory_filter f = { .user_id = bob };
    CHECK_INT(list_count(st, &f), 2);
    f.since_ms = er_time_ms() + 60000; /* recency: nothing that new */
    CHECK_INT(list_count(st, &f), 0);
    er_memory_close(m);
    er_store_close(st);
}

/* A paraphrase shares no word with the item: full text misses it, the
 * provider's embeddings (fake_llm's synonym table) find it. */
static void test_hybrid_paraphrase(const fake_llm_proc *fake)
{
    er_store *st = open_fresh();
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", fake->port);
    er_memory *m = open_memory(st, "fake-embed", base, 0);
    er_error err;
    const char *texts[] = {
        "Maria drives an old automobile to work",
        "The quarterly report is due in March",
        "Servers are patched every Tuesday",
        "The kitten sleeps on the windowsill",
    };
    er_memory_item items[4];
    for (int i = 0; i < 4; i++)
        item_init(&items[i], texts[i], "", "global");
    CHECK_OK(er_memory_save(m, items, 4, NULL, &err));
    cJSON *recs = fake_llm_records(fake, "fake-embed", 1);
    CHECK_INT(cJSON_GetArraySize(recs), 1); /* four texts, one batched request */
    cJSON_Delete(recs);

    er_memory_query q = { .text = "which car does she have", .mode = ER_MEMORY_TEXT };
    er_memory_hit *h = NULL;
    size_t n = 0;
    CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
    CHECK_INT(rank_of(h, n, texts[0]), 0);
    er_memory_hits_free(h, n);
    q.mode = ER_MEMORY_HYBRID;
    CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
    CHECK_INT(rank_of(h, n, texts[0]), 1);
    if (n) {
        CHECK(h[0].vec_rank == 1 && h[0].text_rank == 0);
        CHECK(h[0].vec_score > 0.3);
    }
    er_memory_hits_free(h, n);
    q.text = "feline";
    CHECK_OK(er_memory_search(m, &q, &h, &n, &err));
    CHECK_INT(rank_of(h, n, texts[3]), 1);
    er_memory_hits_free(h, n);

    /* saving a known text again asks the provider nothing (the cache) */
    er_memory_item again;
    item_init(&again, texts[2], "", "agent");
    again.scope_id = (char *)"code";
    int before = 0;
    recs = fake_llm_records(fake, "fake-embed", 0);
    before = cJSON_GetArraySize(recs);
    cJSON_Delete(recs);
    CHECK_OK(er_memory_save(m, &again, 1, NULL, &err));
    recs = fake_llm_records(fake, "fake-embed", 0);
    CHECK_INT(cJSON_GetArraySize(recs), before);
    cJSON_Delete(recs);

    /* 40 new texts: two requests of ER_EMBED_BATCH at most */
    er_memory_item many[40];
    char texts40[40][48];
    for (int i = 0; i < 40; i++) {
        snprintf(texts40[i], sizeof texts40[i], "note number %d about batching", i);
        item_init(&many[i], texts40[i], "", "global");
    }
    CHECK_OK(er_memory_save(m, many, 40, NULL, &err));
    recs = fake_llm_records(fake, "note number", 2);
    CHECK_INT(cJSON_GetArraySize(recs), 2);
    cJSON_Delete(recs);
    er_memory_close(m);

    /* the provider down: a clear error, nothing saved */
    m = open_memory(st, "fake-embed", "http://127.0.0.1:1/v1", 0);
    er_memory_item lost;
    item_init(&lost, "this text is never embedded", "", "global");
    CHECK(er_memory_save(m, &lost, 1, NULL, &err) == ER_EUNAVAIL);
    er_memory_filter f = { 0 };
    f.limit = 1000;
    CHECK_INT(list_count(st, &f), 45);
    er_memory_close(m);
    er_store_close(st);
}

/* Past exact_max the search goes through the HNSW index, which follows
 * what is added and forgotten.  int8: the index keeps quantised vectors and
 * its hits are scored again with the stored float32 ones. */
static void test_index_path(bool int8)
{
    er_store *st = open_fresh();
    er_memory *exact = open_memory(st, NULL, NULL, 0);
    er_memory *approx = open_memory_q(st, NULL, NULL, -1, int8);
    er_error err;
    er_memory_item it[60];
    char texts[60][64];
    for (int i = 0; i < 60; i++) {
        snprintf(texts[i], sizeof texts[i], "service %d runs on host alpha%d in rack %d", i, i * 7,
                 i % 5);
        item_init(&it[i], texts[i], "", "global");
    }
    CHECK_OK(er_memory_save(exact, it, 60, NULL, &err));
    er_memory_query q = { .text = "service 17 host alpha119", .mode = ER_MEMORY_VECTOR, .k = 5 };
    er_memory_hit *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK_OK(er_memory_search(exact, &q, &a, &na, &err));
    CHECK(!er_memory_used_index(exact));
    CHECK_OK(er_memory_search(approx, &q, &b, &nb, &err));
    CHECK(er_memory_used_index(approx));
    CHECK_INT(na, 5);
    CHECK_INT(nb, 5);
    if (na && nb) {
        CHECK_STR(a[0].item.text, texts[17]);
        CHECK_STR(b[0].item.text, texts[17]);
        for (size_t i = 0; i < na && i < nb; i++) /* the same ranking, float32 scores */
            CHECK(fabs(a[i].vec_score - b[i].vec_score) < 1e-5);
    }
    er_memory_hits_free(a, na);
    er_memory_hits_free(b, nb);
    /* forgotten: the index is rebuilt without it */
    CHECK_OK(er_store_memory_forget(st, it[17].id, NULL, &err));
    CHECK_OK(er_memory_search(approx, &q, &b, &nb, &err));
    CHECK_INT(rank_of(b, nb, texts[17]), 0);
    er_memory_hits_free(b, nb);
    /* added by someone else: the index catches up */
    er_memory_item late;
    item_init(&late, "service 17 host alpha119 came back", "", "global");
    CHECK_OK(er_memory_save(exact, &late, 1, NULL, &err));
    CHECK_OK(er_memory_search(approx, &q, &b, &nb, &err));
    CHECK_INT(rank_of(b, nb, "service 17 host alpha119 came back"), 1);
    er_memory_hits_free(b, nb);
    er_memory_close(exact);
    er_memory_close(approx);
    er_store_close(st);
}

typedef struct graph_seen {
    char lines[16][160];
    int n;
} graph_seen;

static int graph_line(const er_memory_relation *r, void *payload)
{
    graph_seen *g = payload;
    if (g->n < 16)
        snprintf(g->lines[g->n++], sizeof g->lines[0], "%d %s -%s-> %s %.2f", r->depth, r->subject,
                 r->predicate, r->object, r->confidence);
    return 0;
}

typedef struct entities_seen {
    char lines[16][200];
    char ids[16][ER_ID_LEN];
    int n;
} entities_seen;

static int entity_line(const er_memory_entity *e, void *payload)
{
    entities_seen *s = payload;
    if (s->n < 16) {
        snprintf(s->lines[s->n], sizeof s->lines[0], "%s/%s/%s/%lld", e->name, e->type,
                 e->shared ? "shared" : "own", (long long)e->relations);
        memcpy(s->ids[s->n++], e->id, ER_ID_LEN);
    }
    return 0;
}

static int link_line(const er_memory_link *l, void *payload)
{
    entities_seen *s = payload;
    if (s->n < 16)
        snprintf(s->lines[s->n++], sizeof s->lines[0], "%s -%s-> %s %.2f %s%s", l->subject,
                 l->predicate, l->object, l->confidence, l->shared ? "shared" : "own",
                 l->subject_id[0] && l->object_id[0] ? "" : " NO IDS");
    return 0;
}

static int alias_line(const char *alias, void *payload)
{
    entities_seen *s = payload;
    if (s->n < 16)
        snprintf(s->lines[s->n++], sizeof s->lines[0], "alias %s", alias);
    return 0;
}

/* Browsing the graph (store_entities.h): by part of a name, one entity,
 * the relations around some; a user's own and the shared, never another's. */
static void test_entities(void)
{
    er_store *st = open_fresh();
    er_error err;
    char ann[ER_ID_LEN], bob[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "ann", NULL, ann, &err));
    CHECK_OK(er_store_user_ensure(st, "bob", NULL, bob, &err));
    /* shared first: ann's relation then finds the shared Babbage by name */
    CHECK_OK(er_store_memory_relate(st, "", "Charles Babbage", "designed", "Analytical Engine", 1,
                                    "", &err));
    CHECK_OK(er_store_memory_relate(st, ann, "Ada Lovelace", "worked with", "Charles Babbage", 0.75,
                                    "task-1", &err));
    CHECK_OK(er_store_memory_relate(st, bob, "Bob 100%_sure", "knows", "Ada", 1, "", &err));
    entities_seen s = { .n = 0 };
    CHECK_OK(er_store_memory_entities(st, ann, "", 10, entity_line, &s, &err));
    CHECK_INT(s.n, 3); /* ann's Ada and the shared two: the most related first */
    if (s.n == 3) {
        CHECK_STR(s.lines[0], "Charles Babbage//shared/2");
        CHECK_STR(s.lines[1], "Ada Lovelace//own/1");
        CHECK_STR(s.lines[2], "Analytical Engine//shared/1");
    }
    s.n = 0;
    CHECK_OK(er_store_memory_entities(st, ann, "  LOVE  ", 10, entity_line, &s, &err));
    CHECK_INT(s.n, 1);
    char ada[ER_ID_LEN] = "";
    if (s.n == 1)
        memcpy(ada, s.ids[0], ER_ID_LEN);
    s.n = 0;
    CHECK_OK(er_store_memory_entities(st, bob, "100%_", 10, entity_line, &s, &err));
    CHECK_INT(s.n, 1); /* % and _ are plain characters */
    s.n = 0;
    CHECK_OK(er_store_memory_entities(st, bob, "%", 10, entity_line, &s, &err));
    CHECK_INT(s.n, 1);
    s.n = 0;
    CHECK_OK(er_store_memory_entities(st, bob, "lovelace", 10, entity_line, &s, &err));
    CHECK_INT(s.n, 0); /* ann's Ada is not bob's */
    CHECK_INT(er_store_memory_entities(st, ann, "", 0, entity_line, &s, &err), ER_EINVAL);
    /* one entity, with its names */
    CHECK_OK(er_store_memory_alias(st, ann, ada, "Countess of Lovelace", &err));
    s.n = 0;
    CHECK_OK(er_store_memory_entity_get(st, ann, ada, entity_line, alias_line, &s, &err));
    CHECK_INT(s.n, 3);
    if (s.n == 3) {
        CHECK_STR(s.lines[0], "Ada Lovelace//own/1");
        CHECK_STR(s.lines[1], "alias ada lovelace");
        CHECK_STR(s.lines[2], "alias countess of lovelace");
    }
    CHECK_INT(er_store_memory_entity_get(st, bob, ada, entity_line, NULL, &s, &err), ER_ENOTFOUND);
    /* the relations around ann's entities: each once, with both ends' ids */
    s.n = 0;
    CHECK_OK(er_store_memory_entities(st, ann, "", 10, entity_line, &s, &err));
    const char *ids[3] = { s.ids[0], s.ids[1], s.ids[2] };
    entities_seen l = { .n = 0 };
    CHECK_OK(er_store_memory_links(st, ann, ids, 3, link_line, &l, &err));
    CHECK_INT(l.n, 2);
    if (l.n == 2) {
        CHECK_STR(l.lines[0], "Charles Babbage -designed-> Analytical Engine 1.00 shared");
        CHECK_STR(l.lines[1], "Ada Lovelace -worked with-> Charles Babbage 0.75 own");
    }
    l.n = 0;
    CHECK_OK(er_store_memory_links(st, bob, ids, 3, link_line, &l, &err));
    CHECK_INT(l.n, 1); /* bob sees the shared relation only */
    /* the entities a text names: by name or alias, in the text's order, the
     * longest name first, each once, punctuation around a word ignored */
    const char *text = "Notes by the countess  of LOVELACE (on the Analytical Engine) thank "
                       "Charles Babbage; Ada said so, and 'Babbage.' agreed.";
    s.n = 0;
    CHECK_OK(er_store_memory_mentions(st, ann, text, 10, entity_line, &s, &err));
    CHECK_INT(s.n, 3); /* "Ada" alone names only bob's */
    if (s.n == 3) {
        CHECK_STR(s.lines[0], "Ada Lovelace//own/1"); /* by its alias */
        CHECK_STR(s.lines[1], "Analytical Engine//shared/1");
        CHECK_STR(s.lines[2], "Charles Babbage//shared/2");
    }
    s.n = 0;
    CHECK_OK(er_store_memory_mentions(st, ann, "ada lovelace, the countess of lovelace", 10,
                                      entity_line, &s, &err));
    CHECK_INT(s.n, 1); /* the alias and the name are one entity */
    s.n = 0;
    CHECK_OK(er_store_memory_mentions(st, ann, text, 1, entity_line, &s, &err));
    CHECK_INT(s.n, 1); /* at most max */
    s.n = 0;
    CHECK_OK(er_store_memory_mentions(st, bob, text, 10, entity_line, &s, &err));
    CHECK_INT(s.n, 3); /* bob: the shared two and his own Ada, never ann's */
    if (s.n == 3)
        CHECK_STR(s.lines[2], "Ada//own/1");
    s.n = 0;
    CHECK_OK(er_store_memory_mentions(st, ann, "nothing here at all", 10, entity_line, &s, &err));
    CHECK_INT(s.n, 0);
    CHECK_INT(er_store_memory_mentions(st, ann, text, 0, entity_line, &s, &err), ER_EINVAL);
    er_store_close(st);
}

static void test_graph(void)
{
    er_store *st = open_fresh();
    er_error err;
    char ann[ER_ID_LEN], bob[ER_ID_LEN];
    CHECK_OK(er_store_user_ensure(st, "ann", NULL, ann, &err));
    CHECK_OK(er_store_user_ensure(st, "bob", NULL, bob, &err));
    /* a chain and a cycle: payments -> postgres -> db01 -> rack 4 -> payments */
    CHECK_OK(er_store_memory_relate(st, ann, "Payments service", "uses", "PostgreSQL", 0.9,
                                    "task-1", &err));
    CHECK_OK(er_store_memory_relate(st, ann, "postgresql", "runs on", "db01", 1, "", &err));
    CHECK_OK(er_store_memory_relate(st, ann, "DB01", "sits in", "rack 4", 0.5, "", &err));
    CHECK_OK(
        er_store_memory_relate(st, ann, "rack  4", "hosts", "payments   SERVICE", 0.7, "", &err));
    /* stated again: updated, not doubled */
    CHECK_OK(er_store_memory_relate(st, ann, "payments service", "uses", "postgresql", 0.8,
                                    "task-2", &err));
    /* another user's relation to the same name stays theirs */
    CHECK_OK(er_store_memory_relate(st, bob, "payments service", "owned by", "bob", 1, "", &err));
    graph_seen g = { .n = 0 };
    CHECK_OK(er_store_memory_graph(st, ann, "PAYMENTS service", 1, graph_line, &g, &err));
    CHECK_INT(g.n, 2);
    if (g.n == 2) {
        CHECK_STR(g.lines[0], "1 Payments service -uses-> PostgreSQL 0.80");
        CHECK_STR(g.lines[1], "1 rack 4 -hosts-> Payments service 0.70");
    }
    g.n = 0;
    CHECK_OK(er_store_memory_graph(st, ann, "payments service", 2, graph_line, &g, &err));
    CHECK_INT(g.n, 4); /* the cycle closes at step 2: every relation once */
    if (g.n == 4) {
        CHECK_STR(g.lines[2], "2 db01 -sits in-> rack 4 0.50");
        CHECK_STR(g.lines[3], "2 PostgreSQL -runs on-> db01 1.00");
    }
    g.n = 0;
    CHECK_OK(er_store_memory_graph(st, bob, "payments service", 3, graph_line, &g, &err));
    CHECK_INT(g.n, 1);
    /* aliases: another name for the same entity */
    char pg[ER_ID_LEN];
    CHECK_OK(er_store_memory_entity(st, ann, "PostgreSQL", NULL, false, pg, &err));
    CHECK_OK(er_store_memory_alias(st, ann, pg, "Postgres", &err));
    char again[ER_ID_LEN];
    CHECK_OK(er_store_memory_entity(st, ann, "postgres", NULL, false, again, &err));
    CHECK_STR(again, pg);
    char db01[ER_ID_LEN];
    CHECK_OK(er_store_memory_entity(st, ann, "db01", NULL, false, db01, &err));
    CHECK(er_store_memory_alias(st, ann, db01, "postgres", &err) == ER_EEXISTS);
    /* errors */
    CHECK(er_store_memory_graph(st, ann, "nothing here", 2, graph_line, &g, &err) == ER_ENOTFOUND);
    CHECK(er_store_memory_graph(st, ann, "postgres", 0, graph_line, &g, &err) == ER_EINVAL);
    CHECK(er_store_memory_relate(st, ann, "a", "", "b", 1, "", &err) == ER_EINVAL);
    CHECK(er_store_memory_relate(st, ann, "a", "is", "b", 1.5, "", &err) == ER_EINVAL);
    /* a deleted user's graph goes with them */
    CHECK_OK(er_store_user_delete(st, "bob", &err));
    CHECK(er_store_memory_entity(st, bob, "bob", NULL, false, again, &err) == ER_ENOTFOUND);
    er_store_close(st);
}

static void test_offline_embedding(void)
{
    float a[ER_EMBED_OFFLINE_DIM], b[ER_EMBED_OFFLINE_DIM], c[ER_EMBED_OFFLINE_DIM];
    er_embed_hash("deploying the payments service", a, ER_EMBED_OFFLINE_DIM);
    er_embed_hash("deployment of the payment service", b, ER_EMBED_OFFLINE_DIM);
    er_embed_hash("lunch menu for friday", c, ER_EMBED_OFFLINE_DIM);
    CHECK(er_vec_dot(a, a, ER_EMBED_OFFLINE_DIM) > 0.999f);
    CHECK(er_vec_dot(a, b, ER_EMBED_OFFLINE_DIM) > er_vec_dot(a, c, ER_EMBED_OFFLINE_DIM) + 0.3f);
    float d[ER_EMBED_OFFLINE_DIM];
    er_embed_hash("deploying the payments service", d, ER_EMBED_OFFLINE_DIM);
    CHECK(memcmp(a, d, sizeof a) == 0); /* deterministic */
}

int main(void)
{
    pg_base = getenv("ERRAND_TEST_DATABASE_URL");
    if (pg_base && !*pg_base)
        pg_base = NULL;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/errand-test-memory-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    er_error err;
    if (pg_base) {
#ifndef ERRAND_WITH_POSTGRES
        fprintf(stderr, "PostgreSQL support is not compiled in; skipping\n");
        cleanup();
        return 77;
#endif
        CHECK_OK(er_store_open(&admin, pg_base, &err));
        if (!admin) {
            cleanup();
            return check_done();
        }
    }
    test_offline_embedding();
    test_save_update_forget();
    test_text_ranking();
    test_filters();
    test_index_path(false);
    test_index_path(true);
    test_graph();
    test_entities();
    fake_llm_proc fake;
    int rc = fake_llm_start(&fake, "llm/embeddings.json", NULL);
    if (rc == 0) {
        test_hybrid_paraphrase(&fake);
        fake_llm_stop(&fake);
    } else {
        fprintf(stderr, "fake_llm did not start (%d): the hybrid test did not run\n", rc);
        CHECK(rc == 0);
    }
    cleanup();
    return check_done();
}
