/* amqp_api.c — the entry-point table of librabbitmq (RabbitMQ client). */
#define ER_AMQP_NO_REDIRECT
#include "amqp_api.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>

er_amqp_api er_amqp;

#define SYM(f)                       \
    {                                \
#f, offsetof(er_amqp_api, f) \
    }
static const er_dl_sym syms[] = {
    SYM(amqp_basic_ack),
    SYM(amqp_basic_cancel),
    SYM(amqp_basic_consume),
    SYM(amqp_basic_nack),
    SYM(amqp_basic_publish),
    SYM(amqp_basic_qos),
    SYM(amqp_basic_reject),
    SYM(amqp_channel_close),
    SYM(amqp_channel_open),
    SYM(amqp_confirm_select),
    SYM(amqp_connection_close),
    SYM(amqp_consume_message),
    SYM(amqp_cstring_bytes),
    SYM(amqp_data_in_buffer),
    SYM(amqp_destroy_connection),
    SYM(amqp_destroy_envelope),
    SYM(amqp_error_string2),
    SYM(amqp_exchange_declare),
    SYM(amqp_frames_enqueued),
    SYM(amqp_get_rpc_reply),
    SYM(amqp_get_sockfd),
    SYM(amqp_login),
    SYM(amqp_maybe_release_buffers),
    SYM(amqp_new_connection),
    SYM(amqp_queue_bind),
    SYM(amqp_queue_declare),
    SYM(amqp_queue_purge),
    SYM(amqp_set_handshake_timeout),
    SYM(amqp_set_rpc_timeout),
    SYM(amqp_simple_wait_frame),
    SYM(amqp_simple_wait_frame_noblock),
    SYM(amqp_socket_open_noblock),
    SYM(amqp_ssl_socket_new),
    SYM(amqp_ssl_socket_set_cacert),
    SYM(amqp_tcp_socket_new),
    SYM(amqp_tcp_socket_set_sockfd),
    SYM(amqp_release_buffers),
    SYM(amqp_empty_bytes),
    SYM(amqp_empty_table),
};
#undef SYM

static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;

static void load(void)
{
    static const char *const names[] = { "librabbitmq.so.4", "librabbitmq.so", NULL };
    er_dl_load(names, syms, sizeof syms / sizeof syms[0], &er_amqp, "install librabbitmq4",
               &load_err);
}

int er_amqp_load(er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code && err)
        *err = load_err;
    return load_err.code;
}
