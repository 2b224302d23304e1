/* zip_api.h — libzip, loaded on first use (see errand/dl.h): only reading
 * .xlsx files needs it, and a run that never opens a spreadsheet should not
 * pay for loading it.  Calls go through the table; er_zip_load fills it.
 * (The workbook's XML parts are read with libxml2: errand/xml.h.) */
#ifndef ERRAND_ZIP_API_H
#define ERRAND_ZIP_API_H

#include "errand/error.h"
#include <zip.h>

typedef struct er_zip_api {
    __typeof__(zip_open) *zip_open;
    __typeof__(zip_close) *zip_close;
    __typeof__(zip_discard) *zip_discard;
    __typeof__(zip_fopen) *zip_fopen;
    __typeof__(zip_fread) *zip_fread;
    __typeof__(zip_fclose) *zip_fclose;
    __typeof__(zip_error_init_with_code) *zip_error_init_with_code;
    __typeof__(zip_error_strerror) *zip_error_strerror;
    __typeof__(zip_error_fini) *zip_error_fini;
} er_zip_api;

extern er_zip_api er_zip;
/* Load once (thread-safe); ER_EUNAVAIL naming the package when missing. */
int er_zip_load(er_error *err);

#endif
