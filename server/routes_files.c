/* routes_files.c — GET /api/v1/files?path=REL: an image from the requester's
 * own workspace (a chart or screenshot a tool made), for the web app to show.
 *
 * Narrow on purpose: only the requester's workspace (server.workspaces/ID),
 * the path resolved and opened beneath it (workspace.h: `..`, symlinks and a
 * swap between check and open all refused, errand's own files too), only
 * regular files with an image extension, at most MAX_BYTES, sent with their
 * image type and nosniff so nothing is ever interpreted as a page.  SVG is
 * not served: it may hold script.  Anything refused is 404, so the answer
 * does not tell which other files exist. */
#include "server.h"
#include "errand/workspace.h"
#include "errand/workspaces.h"

#include <fcntl.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BYTES (16u << 20)

static const struct {
    const char *ext, *type;
} image_types[] = {
    { ".png", "image/png" }, { ".jpg", "image/jpeg" },  { ".jpeg", "image/jpeg" },
    { ".gif", "image/gif" }, { ".webp", "image/webp" },
};

static const char *image_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < ER_ARRAY_LEN(image_types); i++)
        if (strcasecmp(dot, image_types[i].ext) == 0)
            return image_types[i].type;
    return NULL;
}

static int not_found(srv_req *r, const char *path)
{
    return srv_reply_error(r, 404, "path", "no image '%.200s' in your workspace", path);
}

int srv_route_file_get(srv_req *r)
{
    char path[1024];
    if (!srv_query(r, "path", path, sizeof path) || !*path)
        return srv_reply_error(r, 400, "path", "give the image's path in your workspace");
    const char *type = image_type(path);
    if (!type)
        return srv_reply_error(r, 415, "path", "only PNG, JPEG, GIF and WebP images are served");
    er_error err = { 0 };
    char *root = NULL, *abs = NULL;
    er_workspace ws = { 0 };
    int fd = -1, status;
    if (er_workspace_for_user(&root, r->s->cfg, r->user.id, &err) ||
        er_workspace_init(&ws, root, &err)) {
        status = srv_reply_err(r, &err);
        goto out;
    }
    er_workspace_guard(&ws, r->s->cfg);
    struct stat st;
    if (er_workspace_resolve(&abs, &ws, path, &err) ||
        er_workspace_open(&fd, &ws, abs, O_RDONLY | O_CLOEXEC, &err) || fstat(fd, &st) ||
        !S_ISREG(st.st_mode)) {
        status = not_found(r, path);
        goto out;
    }
    if (st.st_size > (off_t)MAX_BYTES) {
        status = srv_reply_error(r, 413, "path", "the image is larger than %u MB", MAX_BYTES >> 20);
        goto out;
    }
    char *data = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (data && got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (!data || got != (size_t)st.st_size) {
        free(data);
        status = srv_reply_error(r, 500, NULL, "cannot read '%.200s'", path);
        goto out;
    }
    status =
        srv_reply(r, 200, type,
                  "X-Content-Type-Options: nosniff\r\nContent-Disposition: inline\r\n", data, got);
    free(data);
out:
    if (fd >= 0)
        close(fd);
    free(abs);
    free(root);
    er_workspace_release(&ws);
    return status;
}
