/* ws_api.h — CivetWeb's WebSocket client, loaded on first use.
 *
 * The browser backends speak to the browser over a WebSocket; a run that
 * never opens a browser does not load libcivetweb (dl.h). */
#ifndef ERRAND_WS_API_H
#define ERRAND_WS_API_H

#include "errand/error.h"

#include <civetweb.h>

typedef struct er_ws_api {
    unsigned (*mg_init_library)(unsigned features);
    struct mg_connection *(*mg_connect_websocket_client)(
        const char *host, int port, int use_ssl, char *error_buffer, size_t error_buffer_size,
        const char *path, const char *origin, mg_websocket_data_handler data_func,
        mg_websocket_close_handler close_func, void *user_data);
    int (*mg_websocket_client_write)(struct mg_connection *conn, int opcode, const char *data,
                                     size_t data_len);
    void (*mg_close_connection)(struct mg_connection *conn);
} er_ws_api;

extern er_ws_api er_ws;

/* Loads libcivetweb once (thread-safe); ER_ENOTFOUND names the package. */
int er_ws_load(er_error *err);

#endif
