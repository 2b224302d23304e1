/* xlsx_api.h — libzip and libxml2, loaded on first use (see errand/dl.h):
 * reading .xlsx files needs both, and a run that never opens a spreadsheet
 * should not pay for loading them (libxml2 brings ICU, megabytes of it).
 * Calls go through the tables; the loaders fill them. */
#ifndef ERRAND_XLSX_API_H
#define ERRAND_XLSX_API_H

#include "errand/error.h"
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
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

typedef struct er_xlsx_xml_api {
    __typeof__(xmlReaderForIO) *xmlReaderForIO;
    __typeof__(xmlTextReaderRead) *xmlTextReaderRead;
    __typeof__(xmlTextReaderNodeType) *xmlTextReaderNodeType;
    __typeof__(xmlTextReaderConstLocalName) *xmlTextReaderConstLocalName;
    __typeof__(xmlTextReaderConstValue) *xmlTextReaderConstValue;
    __typeof__(xmlTextReaderGetAttribute) *xmlTextReaderGetAttribute;
    __typeof__(xmlTextReaderIsEmptyElement) *xmlTextReaderIsEmptyElement;
    __typeof__(xmlFreeTextReader) *xmlFreeTextReader;
    __typeof__(xmlReadMemory) *xmlReadMemory;
    __typeof__(xmlFreeDoc) *xmlFreeDoc;
    __typeof__(xmlDocGetRootElement) *xmlDocGetRootElement;
    xmlFreeFunc *xmlFree; /* a variable in libxml2 */
} er_xlsx_xml_api;

extern er_zip_api er_zip;
extern er_xlsx_xml_api er_xlsx_xml;
/* Load once (thread-safe); ER_EUNAVAIL naming the package when missing. */
int er_zip_load(er_error *err);
int er_xlsx_xml_load(er_error *err);

#endif
