/* xlsx_api.c — the entry-point tables of libzip and libxml2. */
#include "xlsx_api.h"
#include "errand/dl.h"

#include <pthread.h>
#include <stddef.h>

er_zip_api er_zip;
er_xlsx_xml_api er_xlsx_xml;

#define ZSYM(f)                     \
    {                               \
#f, offsetof(er_zip_api, f) \
    }
static const er_dl_sym zip_syms[] = {
    ZSYM(zip_open),
    ZSYM(zip_close),
    ZSYM(zip_discard),
    ZSYM(zip_fopen),
    ZSYM(zip_fread),
    ZSYM(zip_fclose),
    ZSYM(zip_error_init_with_code),
    ZSYM(zip_error_strerror),
    ZSYM(zip_error_fini),
};
#undef ZSYM

#define XSYM(f)                          \
    {                                    \
#f, offsetof(er_xlsx_xml_api, f) \
    }
static const er_dl_sym xml_syms[] = {
    XSYM(xmlReaderForIO),
    XSYM(xmlTextReaderRead),
    XSYM(xmlTextReaderNodeType),
    XSYM(xmlTextReaderConstLocalName),
    XSYM(xmlTextReaderConstValue),
    XSYM(xmlTextReaderGetAttribute),
    XSYM(xmlTextReaderIsEmptyElement),
    XSYM(xmlFreeTextReader),
    XSYM(xmlReadMemory),
    XSYM(xmlFreeDoc),
    XSYM(xmlDocGetRootElement),
    XSYM(xmlFree),
};
#undef XSYM

static pthread_once_t zip_once = PTHREAD_ONCE_INIT, xml_once = PTHREAD_ONCE_INIT;
static er_error zip_err, xml_err;

static void load_zip(void)
{
    static const char *const names[] = { "libzip.so.4", "libzip.so", NULL };
    er_dl_load(names, zip_syms, sizeof zip_syms / sizeof zip_syms[0], &er_zip,
               "install libzip4 to read .xlsx files", &zip_err);
}

static void load_xml(void)
{
    static const char *const names[] = { "libxml2.so.2", "libxml2.so", NULL };
    er_dl_load(names, xml_syms, sizeof xml_syms / sizeof xml_syms[0], &er_xlsx_xml,
               "install libxml2 to read .xlsx files", &xml_err);
}

int er_zip_load(er_error *err)
{
    pthread_once(&zip_once, load_zip);
    if (zip_err.code && err)
        *err = zip_err;
    return zip_err.code;
}

int er_xlsx_xml_load(er_error *err)
{
    pthread_once(&xml_once, load_xml);
    if (xml_err.code && err)
        *err = xml_err;
    return xml_err.code;
}
