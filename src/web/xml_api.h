/* xml_api.h — libxml2 (HTML and XML parsers, URI resolution), loaded on first
 * use (see errand/dl.h): Debian's libxml2 pulls in ICU and libstdc++, which
 * a run that never reads a page should not load.  Private to src/web.
 *
 * Include this instead of the library's headers: calls keep their usual
 * names and go through the table, which er_xml_load() fills. */
#ifndef ERRAND_XML_API_H
#define ERRAND_XML_API_H

#include "errand/error.h"
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>

typedef struct er_xml_api {
    __typeof__(xmlInitParser) *xmlInitParser;
    __typeof__(htmlReadMemory) *htmlReadMemory;
    __typeof__(xmlReadMemory) *xmlReadMemory;
    __typeof__(xmlFreeDoc) *xmlFreeDoc;
    __typeof__(xmlBuildURI) *xmlBuildURI;
    xmlFreeFunc *free_var; /* the library's `xmlFree` variable */
} er_xml_api;

extern er_xml_api er_xml;
/* Loads the library once (thread-safe); ER_EUNAVAIL when it is missing. */
int er_xml_load(er_error *err);

#ifndef ER_XML_NO_REDIRECT
#define htmlReadMemory (er_xml.htmlReadMemory)
#define xmlReadMemory  (er_xml.xmlReadMemory)
#define xmlFreeDoc     (er_xml.xmlFreeDoc)
#define xmlBuildURI    (er_xml.xmlBuildURI)
#endif
#define er_xml_free(p) ((*er_xml.free_var)(p))

#endif
