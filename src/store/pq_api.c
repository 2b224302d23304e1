/* pq_api.c — the entry-point table of libpq (PostgreSQL client). */
#define ER_PQ_NO_REDIRECT
#include "pq_api.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>

er_pq_api er_pq;

#define SYM(f)                     \
    {                              \
#f, offsetof(er_pq_api, f) \
    }
static const er_dl_sym syms[] = {
    SYM(PQclear),
    SYM(PQcmdTuples),
    SYM(PQconnectdbParams),
    SYM(PQconnectionNeedsPassword),
    SYM(PQconninfoFree),
    SYM(PQconninfoParse),
    SYM(PQerrorMessage),
    SYM(PQexec),
    SYM(PQexecPrepared),
    SYM(PQfinish),
    SYM(PQfreemem),
    SYM(PQftype),
    SYM(PQgetisnull),
    SYM(PQgetvalue),
    SYM(PQnfields),
    SYM(PQntuples),
    SYM(PQprepare),
    SYM(PQreset),
    SYM(PQresultErrorField),
    SYM(PQresultStatus),
    SYM(PQsetNoticeProcessor),
    SYM(PQstatus),
};
#undef SYM

static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;

static void load(void)
{
    static const char *const names[] = { "libpq.so.5", "libpq.so", NULL };
    er_dl_load(names, syms, sizeof syms / sizeof syms[0], &er_pq, "install libpq5", &load_err);
}

int er_pq_load(er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code && err)
        *err = load_err;
    return load_err.code;
}
