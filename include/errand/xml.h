/* xml.h — libxml2, loaded on first use (see errand/dl.h), for every module
 * that reads XML or HTML: the page extractor and feeds (src/web: the HTML and
 * XML parsers, URI resolution) and the .xlsx reader (src/data: the streaming
 * reader over a workbook's parts).  Debian's libxml2 pulls in ICU and
 * libstdc++, which a run that never reads a page or a spreadsheet should not
 * load.
 *
 * Include this instead of the library's headers: calls keep their usual
 * names and go through the table, which er_xml_load() fills.  Free what the
 * library allocates (attribute values, built URIs) with er_xml_free(). */
#ifndef ERRAND_XML_H
#define ERRAND_XML_H

#include "error.h"
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlreader.h>

typedef struct er_xml_api {
    __typeof__(xmlInitParser) *xmlInitParser;
    /* whole documents */
    __typeof__(htmlReadMemory) *htmlReadMemory;
    __typeof__(xmlReadMemory) *xmlReadMemory;
    __typeof__(xmlFreeDoc) *xmlFreeDoc;
    __typeof__(xmlDocGetRootElement) *xmlDocGetRootElement;
    __typeof__(xmlBuildURI) *xmlBuildURI;
    /* streaming */
    __typeof__(xmlReaderForIO) *xmlReaderForIO;
    __typeof__(xmlTextReaderRead) *xmlTextReaderRead;
    __typeof__(xmlTextReaderNodeType) *xmlTextReaderNodeType;
    __typeof__(xmlTextReaderConstLocalName) *xmlTextReaderConstLocalName;
    __typeof__(xmlTextReaderConstValue) *xmlTextReaderConstValue;
    __typeof__(xmlTextReaderGetAttribute) *xmlTextReaderGetAttribute;
    __typeof__(xmlTextReaderIsEmptyElement) *xmlTextReaderIsEmptyElement;
    __typeof__(xmlFreeTextReader) *xmlFreeTextReader;
    xmlFreeFunc *free_var; /* the library's `xmlFree` variable */
} er_xml_api;

extern er_xml_api er_xml;
/* Loads the library once (thread-safe); ER_EUNAVAIL naming the package when
 * it is missing. */
int er_xml_load(er_error *err);

#ifndef ER_XML_NO_REDIRECT
#define htmlReadMemory              (er_xml.htmlReadMemory)
#define xmlReadMemory               (er_xml.xmlReadMemory)
#define xmlFreeDoc                  (er_xml.xmlFreeDoc)
#define xmlDocGetRootElement        (er_xml.xmlDocGetRootElement)
#define xmlBuildURI                 (er_xml.xmlBuildURI)
#define xmlReaderForIO              (er_xml.xmlReaderForIO)
#define xmlTextReaderRead           (er_xml.xmlTextReaderRead)
#define xmlTextReaderNodeType       (er_xml.xmlTextReaderNodeType)
#define xmlTextReaderConstLocalName (er_xml.xmlTextReaderConstLocalName)
#define xmlTextReaderConstValue     (er_xml.xmlTextReaderConstValue)
#define xmlTextReaderGetAttribute   (er_xml.xmlTextReaderGetAttribute)
#define xmlTextReaderIsEmptyElement (er_xml.xmlTextReaderIsEmptyElement)
#define xmlFreeTextReader           (er_xml.xmlFreeTextReader)
#endif
#define er_xml_free(p) ((*er_xml.free_var)(p))

#endif
