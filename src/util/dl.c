/* dl.c — lazy loading of client libraries (see dl.h). */
#include "errand/dl.h"

#include <dlfcn.h>
#include <string.h>

int er_dl_load(const char *const *names, const er_dl_sym *syms, size_t nsyms, void *api,
               const char *hint, er_error *err)
{
    void *lib = NULL;
    const char *why = "no library name given";
    for (size_t i = 0; names[i] && !lib; i++) {
        lib = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL);
        if (!lib)
            why = dlerror();
    }
    if (!lib)
        return er_error_set(err, ER_EUNAVAIL, "cannot load %s: %s — %s", names[0], why, hint);
    for (size_t i = 0; i < nsyms; i++) {
        void *fn = dlsym(lib, syms[i].name);
        if (!fn)
            return er_error_set(err, ER_EUNAVAIL, "%s lacks %s — %s", names[0], syms[i].name, hint);
        memcpy((char *)api + syms[i].offset, &fn, sizeof fn);
    }
    /* Never dlclose()d: these libraries keep global state. */
    return 0;
}

int er_dl_load_once(er_dl_once *o, void (*load)(void), er_error *err)
{
    pthread_once(&o->once, load);
    if (o->err.code)
        return er_error_set(err, o->err.code, "%s", o->err.msg);
    return 0;
}
