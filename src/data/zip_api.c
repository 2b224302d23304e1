/* zip_api.c — the entry-point table of libzip (see zip_api.h). */
#include "zip_api.h"
#include "errand/dl.h"

#include <stddef.h>

er_zip_api er_zip;

static const er_dl_sym syms[] = {
    { "zip_open", offsetof(er_zip_api, zip_open) },
    { "zip_close", offsetof(er_zip_api, zip_close) },
    { "zip_discard", offsetof(er_zip_api, zip_discard) },
    { "zip_fopen", offsetof(er_zip_api, zip_fopen) },
    { "zip_fread", offsetof(er_zip_api, zip_fread) },
    { "zip_fclose", offsetof(er_zip_api, zip_fclose) },
    { "zip_error_init_with_code", offsetof(er_zip_api, zip_error_init_with_code) },
    { "zip_error_strerror", offsetof(er_zip_api, zip_error_strerror) },
    { "zip_error_fini", offsetof(er_zip_api, zip_error_fini) },
};

static er_dl_once lib = { PTHREAD_ONCE_INIT, { 0, "" } };

static void load(void)
{
    static const char *const names[] = { "libzip.so.4", "libzip.so", NULL };
    er_dl_load(names, syms, ER_ARRAY_LEN(syms), &er_zip, "install libzip4 to read .xlsx files",
               &lib.err);
}

int er_zip_load(er_error *err)
{
    return er_dl_load_once(&lib, load, err);
}
