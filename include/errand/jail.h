/* jail.h — what a sandboxed command sees of the filesystem: bubblewrap's
 * options (sandbox.h runs them).
 *
 * Nothing of the host is shown unless it is listed here:
 *   /usr read-only, and /bin /sbin /lib* as the host has them (symlinks into
 *     /usr on a merged-/usr Debian, read-only binds otherwise);
 *   a minimal /etc: the files programs read to run — the dynamic linker's
 *     cache, users and groups (passwd and group hold no passwords), name
 *     resolution, TLS roots, time zones, locales, MIME types, fonts, XML
 *     catalogs, the alternatives symlinks, interpreters' own settings (Python,
 *     Java); never shadow,
 *     ssh keys, ssl/private, sudoers, files that often carry credentials
 *     (pip.conf, npmrc, wgetrc, gitconfig) or errand's configuration;
 *   the paths sandbox.expose lists, read-only (a toolchain in /opt);
 *   the workspace, read-write or read-only, at its own path;
 *   a private /dev (null, zero, random, tty, a size-capped /dev/shm), /proc
 *     of its own PID namespace, and a private size-capped /tmp holding HOME
 *     (/tmp/home); /var/tmp leads to it.
 * Everything else — the real HOME, errand's data, config and state, other
 * users' workspaces, /root, /var, /run, /srv — does not exist in the jail.
 * errand's own files that lie inside a shown path (a workspace that
 * contains the data directory, in local mode) are covered: an empty
 * read-only tmpfs over a directory, /dev/null over a file.  The root, /dev
 * and the cover mounts are read-only. */
#ifndef ERRAND_JAIL_H
#define ERRAND_JAIL_H

#include "common.h"
#include "own_files.h"
#include "strv.h"

#define ER_JAIL_HOME "/tmp/home"

typedef struct er_jail {
    const char *workspace; /* canonical; NULL: none */
    bool workspace_read_only;
    bool network;            /* keep the host's network namespace */
    const char *expose;      /* comma-separated absolute paths, or NULL */
    const er_own_files *own; /* covered where they lie in a shown path; NULL: none */
    uint64_t tmp_bytes;      /* size of /tmp and of /dev/shm; 0: the kernel's default */
} er_jail;

/* Appends bwrap's options for j: everything between "bwrap" and "--". */
void er_jail_args(er_strv *av, const er_jail *j);

/* True when the host path abs (canonical) is shown in the jail. */
bool er_jail_shows(const er_jail *j, const char *abs);

#endif
