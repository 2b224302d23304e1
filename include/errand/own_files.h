/* own_files.h — errand's own files: its data, config and state directories,
 * the SQLite database, the config file and the log file.
 *
 * They hold the token-signing key, every user's conversations and the API
 * keys, so no tool may reach them, wherever they are: the file tools refuse
 * paths inside them (workspace.h), the sandbox hides those that lie inside
 * the workspace it shows (sandbox.h), and `errand serve` and `errand worker`
 * refuse to start when a workspace contains one of them or lies inside one.
 *
 * Paths are canonical (symlinks resolved) as far as they exist, so a
 * directory not made yet is still recognised when it is. */
#ifndef ERRAND_OWN_FILES_H
#define ERRAND_OWN_FILES_H

#include "common.h"
#include "config.h"
#include "error.h"

typedef struct er_own_file {
    char *path;       /* canonical absolute path */
    const char *what; /* "errand's data directory", … (static) */
    bool dir;         /* a directory: everything beneath it is errand's too */
} er_own_file;

typedef struct er_own_files {
    er_own_file *v;
    size_t n;
} er_own_files;

/* The XDG data, config and state directories of errand (from the
 * environment), and with cfg (may be NULL) the SQLite database with its
 * -wal/-shm/-journal files, the config file read and the log file. */
void er_own_files_init(er_own_files *out, const er_config *cfg);
void er_own_files_release(er_own_files *f);

/* BORROWED: the entry that abs (canonical) is or lies beneath, or NULL. */
const er_own_file *er_own_files_find(const er_own_files *f, const char *abs);

/* ER_EDENIED when the directory dir (what names it in the message, e.g. "the
 * workspace") contains one of them or lies inside one; ER_ENOTFOUND when it
 * cannot be resolved. */
int er_own_files_check_dir(const er_own_files *f, const char *dir, const char *what, er_error *err);

/* OWNED: the canonical absolute form of path, resolving what exists of it
 * (the missing rest is appended as written, without "." components).
 * Relative paths are taken from the current directory. */
char *er_path_canonical(const char *path);

/* True when abs is base or lies beneath it (both canonical). */
bool er_path_within(const char *abs, const char *base);

#endif
