/* file_replace.c — write to a temporary file, rename over (file_replace.h). */
#include "errand/file_replace.h"
#include "errand/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int er_file_replace(const char *path, const char *data, size_t len, unsigned mode, bool durable,
                    er_error *err)
{
    char *tmp = er_xasprintf("%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp), rc = 0; /* 0600, O_EXCL: never follows a planted link */
    if (fd < 0) {
        rc = er_error_set(err, ER_EIO, "cannot write next to %s: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    for (size_t off = 0; off < len && rc == 0;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = er_error_set(err, ER_EIO, "cannot write %s: %s", path, strerror(errno));
        else
            off += (size_t)w;
    }
    if (rc == 0 && fchmod(fd, mode & 07777) != 0)
        rc = er_error_set(err, ER_EIO, "cannot set the mode of %s: %s", path, strerror(errno));
    if (rc == 0 && durable && fsync(fd) != 0)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = er_error_set(err, ER_EIO, "cannot replace %s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}
