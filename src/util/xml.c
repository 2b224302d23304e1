/* xml.c — the libxml2 loader (see xml.h). */
#define ER_XML_NO_REDIRECT
#include "errand/xml.h"
#include "errand/dl.h"

#include <stddef.h>

er_xml_api er_xml;

static const er_dl_sym syms[] = {
    { "xmlInitParser", offsetof(er_xml_api, xmlInitParser) },
    { "htmlReadMemory", offsetof(er_xml_api, htmlReadMemory) },
    { "xmlReadMemory", offsetof(er_xml_api, xmlReadMemory) },
    { "xmlFreeDoc", offsetof(er_xml_api, xmlFreeDoc) },
    { "xmlDocGetRootElement", offsetof(er_xml_api, xmlDocGetRootElement) },
    { "xmlBuildURI", offsetof(er_xml_api, xmlBuildURI) },
    { "xmlReaderForIO", offsetof(er_xml_api, xmlReaderForIO) },
    { "xmlTextReaderRead", offsetof(er_xml_api, xmlTextReaderRead) },
    { "xmlTextReaderNodeType", offsetof(er_xml_api, xmlTextReaderNodeType) },
    { "xmlTextReaderConstLocalName", offsetof(er_xml_api, xmlTextReaderConstLocalName) },
    { "xmlTextReaderConstValue", offsetof(er_xml_api, xmlTextReaderConstValue) },
    { "xmlTextReaderGetAttribute", offsetof(er_xml_api, xmlTextReaderGetAttribute) },
    { "xmlTextReaderIsEmptyElement", offsetof(er_xml_api, xmlTextReaderIsEmptyElement) },
    { "xmlFreeTextReader", offsetof(er_xml_api, xmlFreeTextReader) },
    { "xmlFree", offsetof(er_xml_api, free_var) },
};

static er_dl_once lib = { PTHREAD_ONCE_INIT, { 0, "" } };

static void load(void)
{
    static const char *const names[] = { "libxml2.so.2", "libxml2.so", NULL };
    if (er_dl_load(names, syms, ER_ARRAY_LEN(syms), &er_xml, "install libxml2", &lib.err) == 0)
        er_xml.xmlInitParser(); /* once, before threads parse (libxml2's rule) */
}

int er_xml_load(er_error *err)
{
    return er_dl_load_once(&lib, load, err);
}
