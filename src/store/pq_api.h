/* pq_api.h — libpq (PostgreSQL client), loaded on first use (see errand/dl.h).
 *
 * Include this instead of the library's header: calls keep their usual names
 * and go through the table, which the backend fills by calling the loader
 * before anything else. */
#ifndef ERRAND_PQ_API_H
#define ERRAND_PQ_API_H

#include "errand/error.h"
#include <libpq-fe.h>

typedef struct er_pq_api {
    __typeof__(PQclear) *PQclear;
    __typeof__(PQcmdTuples) *PQcmdTuples;
    __typeof__(PQconnectdbParams) *PQconnectdbParams;
    __typeof__(PQconnectionNeedsPassword) *PQconnectionNeedsPassword;
    __typeof__(PQconninfoFree) *PQconninfoFree;
    __typeof__(PQconninfoParse) *PQconninfoParse;
    __typeof__(PQerrorMessage) *PQerrorMessage;
    __typeof__(PQexec) *PQexec;
    __typeof__(PQexecPrepared) *PQexecPrepared;
    __typeof__(PQfinish) *PQfinish;
    __typeof__(PQfreemem) *PQfreemem;
    __typeof__(PQftype) *PQftype;
    __typeof__(PQgetisnull) *PQgetisnull;
    __typeof__(PQgetvalue) *PQgetvalue;
    __typeof__(PQnfields) *PQnfields;
    __typeof__(PQntuples) *PQntuples;
    __typeof__(PQprepare) *PQprepare;
    __typeof__(PQreset) *PQreset;
    __typeof__(PQresultErrorField) *PQresultErrorField;
    __typeof__(PQresultStatus) *PQresultStatus;
    __typeof__(PQsetNoticeProcessor) *PQsetNoticeProcessor;
    __typeof__(PQstatus) *PQstatus;
} er_pq_api;

extern er_pq_api er_pq;
/* Loads the library once (thread-safe); ER_EUNAVAIL when it is missing. */
int er_pq_load(er_error *err);

#ifndef ER_PQ_NO_REDIRECT
#define PQclear                   (er_pq.PQclear)
#define PQcmdTuples               (er_pq.PQcmdTuples)
#define PQconnectdbParams         (er_pq.PQconnectdbParams)
#define PQconnectionNeedsPassword (er_pq.PQconnectionNeedsPassword)
#define PQconninfoFree            (er_pq.PQconninfoFree)
#define PQconninfoParse           (er_pq.PQconninfoParse)
#define PQerrorMessage            (er_pq.PQerrorMessage)
#define PQexec                    (er_pq.PQexec)
#define PQexecPrepared            (er_pq.PQexecPrepared)
#define PQfinish                  (er_pq.PQfinish)
#define PQfreemem                 (er_pq.PQfreemem)
#define PQftype                   (er_pq.PQftype)
#define PQgetisnull               (er_pq.PQgetisnull)
#define PQgetvalue                (er_pq.PQgetvalue)
#define PQnfields                 (er_pq.PQnfields)
#define PQntuples                 (er_pq.PQntuples)
#define PQprepare                 (er_pq.PQprepare)
#define PQreset                   (er_pq.PQreset)
#define PQresultErrorField        (er_pq.PQresultErrorField)
#define PQresultStatus            (er_pq.PQresultStatus)
#define PQsetNoticeProcessor      (er_pq.PQsetNoticeProcessor)
#define PQstatus                  (er_pq.PQstatus)
#endif

#endif
