/* ignore.h — which files a search leaves out, by git's rules (gitignore(5)).
 *
 * Rules come from, closest first: the .gitignore, .ignore and .errandignore
 * files of the directory holding the path and of each directory above it up
 * to the top (the repository's root, or the walk's own top outside a
 * repository; within one directory .errandignore outranks .ignore, which
 * outranks .gitignore), then the repository's info/exclude, then the user's
 * global excludes file (core.excludesFile from the git configuration files
 * under $HOME and $XDG_CONFIG_HOME, else $XDG_CONFIG_HOME/git/ignore).  The
 * last matching rule of the closest set that has one decides.
 *
 * A rule is a pattern as gitignore(5) writes it: blank lines and `#` lines
 * skipped, trailing blanks dropped unless escaped, `!` to re-include, `\` to
 * escape a leading `!` or `#`, a trailing `/` for directories only, a `/` at
 * the start or in the middle to anchor it to its file's directory (else it
 * matches the name at any depth), `*`, `?`, `[...]` within a name and `**`
 * as a whole name for any number of directories.  A directory that is left
 * out is not entered: nothing below it can be re-included, as in git.
 *
 * The walker keeps a stack: er_ignore_enter() on the way into a directory
 * reads its files, er_ignore_leave() on the way out drops them. */
#ifndef ERRAND_IGNORE_H
#define ERRAND_IGNORE_H

#include "common.h"

typedef struct er_ignore er_ignore;

/* OWNED: the rules that apply below dir (absolute, canonical): finds the
 * repository dir lies in (a `.git` in dir or above, stopping at the
 * filesystem root), reads info/exclude and the global excludes, and enters
 * every directory from the top down to dir itself.  top_floor: the highest
 * directory whose ignore files are read when no repository is found (the
 * workspace root). */
er_ignore *er_ignore_new(const char *top_floor, const char *dir);
void er_ignore_free(er_ignore *ig);

/* Reads the ignore files of the directory abs (open as dirfd) and pushes them. */
void er_ignore_enter(er_ignore *ig, int dirfd, const char *abs);
/* As er_ignore_enter, opening only the files whose bits (er_ignore_file_bit)
 * are in present: a walker that has just listed the directory knows which
 * are there, and spares an open that would fail in almost every directory. */
void er_ignore_enter_listed(er_ignore *ig, int dirfd, const char *abs, unsigned present);
/* The bit of an ignore file's name (.gitignore, .ignore, .errandignore); 0
 * for any other name. */
unsigned er_ignore_file_bit(const char *name);
void er_ignore_leave(er_ignore *ig);

/* Whether abs (below the top) is left out; is_dir: it is a directory. */
bool er_ignore_match(const er_ignore *ig, const char *abs, bool is_dir);

/* For tests: rules parsed from text as if read from a file in directory base
 * ("" for the top) pushed as one more level. */
void er_ignore_push_text(er_ignore *ig, const char *base, const char *text, size_t len);

#endif
