/* embed.c — lookup in the table cmake/embed.cmake generates. */
#include "errand/embed.h"

#include <string.h>

const er_embedded_file *er_embedded_find(const char *path)
{
    for (size_t i = 0; i < er_embedded_nfiles; i++)
        if (strcmp(er_embedded_files[i].path, path) == 0)
            return &er_embedded_files[i];
    return NULL;
}
