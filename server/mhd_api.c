/* mhd_api.c — the entry-point table of libmicrohttpd. */
#define SRV_MHD_NO_REDIRECT
#include "mhd_api.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>

srv_mhd_api srv_mhd;

#define SYM(f)                       \
    {                                \
#f, offsetof(srv_mhd_api, f) \
    }
static const er_dl_sym syms[] = {
    SYM(MHD_start_daemon),
    SYM(MHD_stop_daemon),
    SYM(MHD_quiesce_daemon),
    SYM(MHD_get_daemon_info),
    SYM(MHD_lookup_connection_value),
    SYM(MHD_get_connection_info),
    SYM(MHD_create_response_from_buffer),
    SYM(MHD_create_response_for_upgrade),
    SYM(MHD_create_response_from_callback),
    SYM(MHD_add_response_header),
    SYM(MHD_queue_response),
    SYM(MHD_destroy_response),
    SYM(MHD_suspend_connection),
    SYM(MHD_resume_connection),
    SYM(MHD_upgrade_action),
};
#undef SYM

static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;

static void load(void)
{
    static const char *const names[] = { "libmicrohttpd.so.12", "libmicrohttpd.so", NULL };
    er_dl_load(names, syms, sizeof syms / sizeof syms[0], &srv_mhd, "install libmicrohttpd12",
               &load_err);
}

int srv_mhd_load(er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code && err)
        *err = load_err;
    return load_err.code;
}
