/* gmime_api.h — GMime 3, loaded on first use (see errand/dl.h): it pulls in
 * GLib and GObject, which a run that never reads mail should not load.
 * Private to src/mail.  Calls go through the table er_gmime_load() fills. */
#ifndef ERRAND_GMIME_API_H
#define ERRAND_GMIME_API_H

#include "errand/error.h"
#include <gmime/gmime.h>

typedef struct er_gmime_api {
    __typeof__(g_mime_init) *init;
    __typeof__(g_mime_stream_mem_new_with_buffer) *stream_mem_new_with_buffer;
    __typeof__(g_mime_stream_mem_new) *stream_mem_new;
    __typeof__(g_mime_stream_mem_get_byte_array) *stream_mem_get_byte_array;
    __typeof__(g_mime_parser_new_with_stream) *parser_new_with_stream;
    __typeof__(g_mime_parser_construct_message) *parser_construct_message;
    __typeof__(g_mime_message_get_subject) *message_get_subject;
    __typeof__(g_mime_message_get_message_id) *message_get_message_id;
    __typeof__(g_mime_message_get_from) *message_get_from;
    __typeof__(g_mime_message_get_to) *message_get_to;
    __typeof__(g_mime_message_get_cc) *message_get_cc;
    __typeof__(g_mime_message_foreach) *message_foreach;
    __typeof__(g_mime_object_get_header) *object_get_header;
    __typeof__(g_mime_object_get_content_type) *object_get_content_type;
    __typeof__(g_mime_content_type_is_type) *content_type_is_type;
    __typeof__(g_mime_content_type_get_mime_type) *content_type_get_mime_type;
    __typeof__(g_mime_part_is_attachment) *part_is_attachment;
    __typeof__(g_mime_part_get_filename) *part_get_filename;
    __typeof__(g_mime_part_get_content) *part_get_content;
    __typeof__(g_mime_data_wrapper_write_to_stream) *data_wrapper_write_to_stream;
    __typeof__(g_mime_text_part_get_text) *text_part_get_text;
    __typeof__(internet_address_list_to_string) *address_list_to_string;
    __typeof__(g_object_unref) *object_unref;
    __typeof__(g_free) *free;
} er_gmime_api;

extern er_gmime_api er_gmime;
/* Loads GMime once (thread-safe) and initialises it; ER_EUNAVAIL when missing. */
int er_gmime_load(er_error *err);

#endif
