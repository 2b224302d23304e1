/* mhd_api.h — libmicrohttpd (the HTTP server), loaded on first use (see
 * errand/dl.h).
 *
 * Only `errand serve` needs it, and it brings GnuTLS and friends along: other
 * commands should not pay for loading them.
 * Include this instead of the library's headers: calls keep their usual
 * names and go through the table, which srv_mhd_load() fills. */
#ifndef ERRAND_MHD_API_H
#define ERRAND_MHD_API_H

#include "errand/error.h"
#include <microhttpd.h>

typedef struct srv_mhd_api {
    __typeof__(MHD_start_daemon) *MHD_start_daemon;
    __typeof__(MHD_stop_daemon) *MHD_stop_daemon;
    __typeof__(MHD_quiesce_daemon) *MHD_quiesce_daemon;
    __typeof__(MHD_get_daemon_info) *MHD_get_daemon_info;
    __typeof__(MHD_lookup_connection_value) *MHD_lookup_connection_value;
    __typeof__(MHD_get_connection_info) *MHD_get_connection_info;
    __typeof__(MHD_create_response_from_buffer) *MHD_create_response_from_buffer;
    __typeof__(MHD_create_response_for_upgrade) *MHD_create_response_for_upgrade;
    __typeof__(MHD_create_response_from_callback) *MHD_create_response_from_callback;
    __typeof__(MHD_add_response_header) *MHD_add_response_header;
    __typeof__(MHD_queue_response) *MHD_queue_response;
    __typeof__(MHD_destroy_response) *MHD_destroy_response;
    __typeof__(MHD_suspend_connection) *MHD_suspend_connection;
    __typeof__(MHD_resume_connection) *MHD_resume_connection;
    __typeof__(MHD_upgrade_action) *MHD_upgrade_action;
} srv_mhd_api;

extern srv_mhd_api srv_mhd;
/* Loads the library once (thread-safe); ER_EUNAVAIL when it is missing. */
int srv_mhd_load(er_error *err);

#ifndef SRV_MHD_NO_REDIRECT
#define MHD_start_daemon                  (srv_mhd.MHD_start_daemon)
#define MHD_stop_daemon                   (srv_mhd.MHD_stop_daemon)
#define MHD_quiesce_daemon                (srv_mhd.MHD_quiesce_daemon)
#define MHD_get_daemon_info               (srv_mhd.MHD_get_daemon_info)
#define MHD_lookup_connection_value       (srv_mhd.MHD_lookup_connection_value)
#define MHD_get_connection_info           (srv_mhd.MHD_get_connection_info)
#define MHD_create_response_from_buffer   (srv_mhd.MHD_create_response_from_buffer)
#define MHD_create_response_for_upgrade   (srv_mhd.MHD_create_response_for_upgrade)
#define MHD_create_response_from_callback (srv_mhd.MHD_create_response_from_callback)
#define MHD_add_response_header           (srv_mhd.MHD_add_response_header)
#define MHD_queue_response                (srv_mhd.MHD_queue_response)
#define MHD_destroy_response              (srv_mhd.MHD_destroy_response)
#define MHD_suspend_connection            (srv_mhd.MHD_suspend_connection)
#define MHD_resume_connection             (srv_mhd.MHD_resume_connection)
#define MHD_upgrade_action                (srv_mhd.MHD_upgrade_action)
#endif

#endif
