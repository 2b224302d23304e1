/* ws_api.c — the libcivetweb loader (see ws_api.h). */
#include "ws_api.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>

er_ws_api er_ws;

static const er_dl_sym syms[] = {
    { "mg_init_library", offsetof(er_ws_api, mg_init_library) },
    { "mg_connect_websocket_client", offsetof(er_ws_api, mg_connect_websocket_client) },
    { "mg_websocket_client_write", offsetof(er_ws_api, mg_websocket_client_write) },
    { "mg_close_connection", offsetof(er_ws_api, mg_close_connection) },
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;

static void load(void)
{
    static const char *const names[] = { "libcivetweb.so.1", "libcivetweb.so", NULL };
    if (er_dl_load(names, syms, ER_ARRAY_LEN(syms), &er_ws, "install libcivetweb1", &load_err) == 0)
        er_ws.mg_init_library(0); /* once, before any client connects (CivetWeb's rule) */
}

int er_ws_load(er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code)
        return er_error_set(err, load_err.code, "%s", load_err.msg);
    return 0;
}
