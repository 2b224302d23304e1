/* curl_api.h — libcurl's entry points as loaded by src/http/client.c.
 *
 * libcurl is dlopen()ed on first use rather than linked: loading it and its
 * ~30 dependencies costs about 6 MB of RSS and some milliseconds at start-up,
 * which a run that never goes online (the offline brain, most tools) should
 * not pay.  HTTP goes through er_http_request; the mail backend (IMAP, SMTP)
 * drives easy handles itself through er_curl_get(). */
#ifndef ERRAND_CURL_API_H
#define ERRAND_CURL_API_H

#include "errand/error.h"
#include <curl/curl.h>

typedef struct er_curl_api {
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *e);
    void (*easy_reset)(CURL *e);
    CURLcode (*easy_setopt)(CURL *e, CURLoption opt, ...);
    CURLcode (*easy_getinfo)(CURL *e, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode rc);
    CURLHcode (*easy_header)(CURL *e, const char *name, size_t index, unsigned int origin,
                             int request, struct curl_header **hout);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *m);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd fds[], unsigned int nfds, int ms,
                            int *ret);
    CURLMsg *(*multi_info_read)(CURLM *m, int *left);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    CURLU *(*url)(void);
    CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags);
    CURLUcode (*url_get)(CURLU *u, CURLUPart what, char **part, unsigned int flags);
    void (*url_cleanup)(CURLU *u);
    void (*free)(void *p);
    CURLcode (*easy_perform)(CURL *e);
    /* on a CURLOPT_CONNECT_ONLY connection: the IMAP backend's own reader */
    CURLcode (*easy_send)(CURL *e, const void *p, size_t len, size_t *sent);
    CURLcode (*easy_recv)(CURL *e, void *p, size_t len, size_t *got);
} er_curl_api;

/* Loads and initialises libcurl once (thread-safe).  BORROWED: valid for the
 * process's life.  ER_EUNAVAIL when libcurl is missing. */
int er_curl_get(const er_curl_api **out, er_error *err);

#endif
