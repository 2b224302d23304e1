/* amqp_api.h — librabbitmq (RabbitMQ client), loaded on first use (see errand/dl.h).
 *
 * Include this instead of the library's header: calls keep their usual names
 * and go through the table, which the backend fills by calling the loader
 * before anything else. */
#ifndef ERRAND_AMQP_API_H
#define ERRAND_AMQP_API_H

#include "errand/error.h"
#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

typedef struct er_amqp_api {
    __typeof__(amqp_basic_ack) *amqp_basic_ack;
    __typeof__(amqp_basic_cancel) *amqp_basic_cancel;
    __typeof__(amqp_basic_consume) *amqp_basic_consume;
    __typeof__(amqp_basic_nack) *amqp_basic_nack;
    __typeof__(amqp_basic_publish) *amqp_basic_publish;
    __typeof__(amqp_basic_qos) *amqp_basic_qos;
    __typeof__(amqp_basic_reject) *amqp_basic_reject;
    __typeof__(amqp_channel_close) *amqp_channel_close;
    __typeof__(amqp_channel_open) *amqp_channel_open;
    __typeof__(amqp_confirm_select) *amqp_confirm_select;
    __typeof__(amqp_connection_close) *amqp_connection_close;
    __typeof__(amqp_consume_message) *amqp_consume_message;
    __typeof__(amqp_cstring_bytes) *amqp_cstring_bytes;
    __typeof__(amqp_data_in_buffer) *amqp_data_in_buffer;
    __typeof__(amqp_destroy_connection) *amqp_destroy_connection;
    __typeof__(amqp_destroy_envelope) *amqp_destroy_envelope;
    __typeof__(amqp_error_string2) *amqp_error_string2;
    __typeof__(amqp_exchange_declare) *amqp_exchange_declare;
    __typeof__(amqp_frames_enqueued) *amqp_frames_enqueued;
    __typeof__(amqp_get_rpc_reply) *amqp_get_rpc_reply;
    __typeof__(amqp_get_sockfd) *amqp_get_sockfd;
    __typeof__(amqp_login) *amqp_login;
    __typeof__(amqp_maybe_release_buffers) *amqp_maybe_release_buffers;
    __typeof__(amqp_new_connection) *amqp_new_connection;
    __typeof__(amqp_queue_bind) *amqp_queue_bind;
    __typeof__(amqp_queue_declare) *amqp_queue_declare;
    __typeof__(amqp_queue_purge) *amqp_queue_purge;
    __typeof__(amqp_set_handshake_timeout) *amqp_set_handshake_timeout;
    __typeof__(amqp_set_rpc_timeout) *amqp_set_rpc_timeout;
    __typeof__(amqp_simple_wait_frame) *amqp_simple_wait_frame;
    __typeof__(amqp_simple_wait_frame_noblock) *amqp_simple_wait_frame_noblock;
    __typeof__(amqp_socket_open_noblock) *amqp_socket_open_noblock;
    __typeof__(amqp_ssl_socket_new) *amqp_ssl_socket_new;
    __typeof__(amqp_ssl_socket_set_cacert) *amqp_ssl_socket_set_cacert;
    __typeof__(amqp_tcp_socket_new) *amqp_tcp_socket_new;
    __typeof__(amqp_tcp_socket_set_sockfd) *amqp_tcp_socket_set_sockfd;
    __typeof__(amqp_release_buffers) *amqp_release_buffers;
    __typeof__(amqp_empty_bytes) *amqp_empty_bytes;
    __typeof__(amqp_empty_table) *amqp_empty_table;
} er_amqp_api;

extern er_amqp_api er_amqp;
/* Loads the library once (thread-safe); ER_EUNAVAIL when it is missing. */
int er_amqp_load(er_error *err);

#ifndef ER_AMQP_NO_REDIRECT
#define amqp_basic_ack                 (er_amqp.amqp_basic_ack)
#define amqp_basic_cancel              (er_amqp.amqp_basic_cancel)
#define amqp_basic_consume             (er_amqp.amqp_basic_consume)
#define amqp_basic_nack                (er_amqp.amqp_basic_nack)
#define amqp_basic_publish             (er_amqp.amqp_basic_publish)
#define amqp_basic_qos                 (er_amqp.amqp_basic_qos)
#define amqp_basic_reject              (er_amqp.amqp_basic_reject)
#define amqp_channel_close             (er_amqp.amqp_channel_close)
#define amqp_channel_open              (er_amqp.amqp_channel_open)
#define amqp_confirm_select            (er_amqp.amqp_confirm_select)
#define amqp_connection_close          (er_amqp.amqp_connection_close)
#define amqp_consume_message           (er_amqp.amqp_consume_message)
#define amqp_cstring_bytes             (er_amqp.amqp_cstring_bytes)
#define amqp_data_in_buffer            (er_amqp.amqp_data_in_buffer)
#define amqp_destroy_connection        (er_amqp.amqp_destroy_connection)
#define amqp_destroy_envelope          (er_amqp.amqp_destroy_envelope)
#define amqp_error_string2             (er_amqp.amqp_error_string2)
#define amqp_exchange_declare          (er_amqp.amqp_exchange_declare)
#define amqp_frames_enqueued           (er_amqp.amqp_frames_enqueued)
#define amqp_get_rpc_reply             (er_amqp.amqp_get_rpc_reply)
#define amqp_get_sockfd                (er_amqp.amqp_get_sockfd)
#define amqp_login                     (er_amqp.amqp_login)
#define amqp_maybe_release_buffers     (er_amqp.amqp_maybe_release_buffers)
#define amqp_new_connection            (er_amqp.amqp_new_connection)
#define amqp_queue_bind                (er_amqp.amqp_queue_bind)
#define amqp_queue_declare             (er_amqp.amqp_queue_declare)
#define amqp_queue_purge               (er_amqp.amqp_queue_purge)
#define amqp_set_handshake_timeout     (er_amqp.amqp_set_handshake_timeout)
#define amqp_set_rpc_timeout           (er_amqp.amqp_set_rpc_timeout)
#define amqp_simple_wait_frame         (er_amqp.amqp_simple_wait_frame)
#define amqp_simple_wait_frame_noblock (er_amqp.amqp_simple_wait_frame_noblock)
#define amqp_socket_open_noblock       (er_amqp.amqp_socket_open_noblock)
#define amqp_ssl_socket_new            (er_amqp.amqp_ssl_socket_new)
#define amqp_ssl_socket_set_cacert     (er_amqp.amqp_ssl_socket_set_cacert)
#define amqp_tcp_socket_new            (er_amqp.amqp_tcp_socket_new)
#define amqp_tcp_socket_set_sockfd     (er_amqp.amqp_tcp_socket_set_sockfd)
#define amqp_release_buffers           (er_amqp.amqp_release_buffers)
#define amqp_empty_bytes               (*er_amqp.amqp_empty_bytes)
#define amqp_empty_table               (*er_amqp.amqp_empty_table)
#endif

#endif
