/* gmime_api.c — the GMime loader (see gmime_api.h). */
#include "gmime_api.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>

er_gmime_api er_gmime;

#define SYM(f, n)                    \
    {                                \
        n, offsetof(er_gmime_api, f) \
    }
static const er_dl_sym syms[] = {
    SYM(init, "g_mime_init"),
    SYM(stream_mem_new_with_buffer, "g_mime_stream_mem_new_with_buffer"),
    SYM(stream_mem_new, "g_mime_stream_mem_new"),
    SYM(stream_mem_get_byte_array, "g_mime_stream_mem_get_byte_array"),
    SYM(parser_new_with_stream, "g_mime_parser_new_with_stream"),
    SYM(parser_construct_message, "g_mime_parser_construct_message"),
    SYM(message_get_subject, "g_mime_message_get_subject"),
    SYM(message_get_message_id, "g_mime_message_get_message_id"),
    SYM(message_get_from, "g_mime_message_get_from"),
    SYM(message_get_to, "g_mime_message_get_to"),
    SYM(message_get_cc, "g_mime_message_get_cc"),
    SYM(message_foreach, "g_mime_message_foreach"),
    SYM(object_get_header, "g_mime_object_get_header"),
    SYM(object_get_content_type, "g_mime_object_get_content_type"),
    SYM(content_type_is_type, "g_mime_content_type_is_type"),
    SYM(content_type_get_mime_type, "g_mime_content_type_get_mime_type"),
    SYM(part_is_attachment, "g_mime_part_is_attachment"),
    SYM(part_get_filename, "g_mime_part_get_filename"),
    SYM(part_get_content, "g_mime_part_get_content"),
    SYM(data_wrapper_write_to_stream, "g_mime_data_wrapper_write_to_stream"),
    SYM(text_part_get_text, "g_mime_text_part_get_text"),
    SYM(address_list_to_string, "internet_address_list_to_string"),
    SYM(object_unref, "g_object_unref"),
    SYM(free, "g_free"),
};
#undef SYM

static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;

static void load(void)
{
    static const char *const names[] = { "libgmime-3.0.so.0", "libgmime-3.0.so", NULL };
    if (er_dl_load(names, syms, ER_ARRAY_LEN(syms), &er_gmime, "install libgmime-3.0-0",
                   &load_err) == 0)
        er_gmime.init();
}

int er_gmime_load(er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code)
        return er_error_set(err, load_err.code, "%s", load_err.msg);
    return 0;
}
