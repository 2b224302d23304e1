/* cmd_setup.c — `errand setup`: first-time configuration.  Asks for the
 * provider, its endpoint, the model, the API key and the default workspace
 * (or takes them from flags with --non-interactive) and writes the config
 * file errand reads (errand.conf(5)), never replacing one without asking.
 *
 * Every answer is checked by the same code that reads the file
 * (er_config_set), so a file setup writes is one errand accepts. */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/config.h"
#include "errand/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

typedef struct setup_answers {
    char *provider, *base_url, *model, *api_key, *workspace;
} setup_answers;

static void answers_release(setup_answers *s)
{
    free(s->provider);
    free(s->base_url);
    free(s->model);
    if (s->api_key)
        explicit_bzero(s->api_key, strlen(s->api_key));
    free(s->api_key);
    free(s->workspace);
}

/* One line from stdin without its newline (OWNED), NULL at end of input.
 * secret: the terminal does not echo it. */
static char *read_answer(bool secret)
{
    struct termios old, quiet;
    bool hide = secret && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (hide) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (hide) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    char *t = er_xstrdup(er_str_trim(line));
    explicit_bzero(line, cap);
    free(line);
    return t;
}

/* Asks one question on stderr; an empty answer takes def.  Re-asks while
 * er_config_set refuses the answer for setting (NULL: any answer).  Returns
 * OWNED text ("" when empty and no default), NULL at end of input. */
static char *ask(const char *question, const char *def, const char *setting, bool secret)
{
    for (;;) {
        fprintf(stderr, "%s%s%s%s: ", question, def ? " [" : "", def ? def : "", def ? "]" : "");
        fflush(stderr);
        char *a = read_answer(secret);
        if (!a)
            return NULL;
        if (!*a && def) {
            free(a);
            a = er_xstrdup(def);
        }
        if (!setting || !*a)
            return a;
        er_config scratch = { 0 };
        er_error err = { 0 };
        int rc = er_config_set(&scratch, setting, a, &err);
        er_config_release(&scratch);
        if (!rc)
            return a;
        fprintf(stderr, "  %s; try again\n", err.msg);
        free(a);
    }
}

static bool yes_no(const char *question)
{
    fprintf(stderr, "%s [y/N]: ", question);
    fflush(stderr);
    char *a = read_answer(false);
    bool yes = a && (er_str_eq(a, "y") || er_str_eq(a, "yes") || er_str_eq(a, "Y"));
    free(a);
    return yes;
}

static int check_value(const char *setting, const char *value)
{
    er_config scratch = { 0 };
    er_error err = { 0 };
    int rc = er_config_set(&scratch, setting, value, &err);
    er_config_release(&scratch);
    if (rc)
        return cli_usage_error("setup", "%s", err.msg);
    return 0;
}

/* The API key from FILE: its first line, trimmed. */
static int read_key_file(const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_usage_error("setup", "cannot read --api-key-file '%s': %s", path,
                               strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    char *key = n > 0 ? er_str_trim(line) : NULL;
    if (!key || !*key) {
        free(line);
        return cli_usage_error("setup", "--api-key-file '%s' holds no key", path);
    }
    *out = er_xstrdup(key);
    explicit_bzero(line, cap);
    free(line);
    return 0;
}

static const char *key_env(const char *provider)
{
    return er_str_eq(provider, "anthropic") ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
}

static const char *default_url(const char *provider)
{
    return er_str_eq(provider, "anthropic") ? "https://api.anthropic.com"
                                            : "https://api.openai.com/v1";
}

static const char *default_model(const char *provider)
{
    return er_str_eq(provider, "anthropic") ? "claude-sonnet-4-5" : "gpt-4o-mini";
}

/* A value as the loader reads it back: quoted, so blanks at either end stay. */
static void put_setting(er_buf *b, const char *key, const char *value)
{
    er_buf_printf(b, "%s = \"%s\"\n", key, value);
}

static char *render(const setup_answers *s)
{
    er_buf b = ER_BUF_INIT;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d", gmtime_r(&now, &tm));
    er_buf_printf(&b,
                  "# errand settings, written by `errand setup` on %s.\n"
                  "# Every setting is described in errand.conf(5) (man errand.conf); the\n"
                  "# environment and command-line flags win over this file.  `errand doctor`\n"
                  "# shows the effective values and checks them.\n\n[llm]\n",
                  when);
    put_setting(&b, "provider", s->provider);
    bool online = !er_str_eq(s->provider, "offline");
    if (online) {
        put_setting(&b, "model", s->model);
        const char *prefix = er_str_eq(s->provider, "anthropic") ? "anthropic" : "openai";
        char key[48];
        snprintf(key, sizeof key, "%s_base_url", prefix);
        if (er_str_eq(s->base_url, default_url(s->provider)))
            er_buf_printf(&b, "# %s = \"%s\"  (the default)\n", key, s->base_url);
        else
            put_setting(&b, key, s->base_url);
        snprintf(key, sizeof key, "%s_api_key", prefix);
        if (er_str_empty(s->api_key))
            er_buf_printf(&b,
                          "# The API key is read from %s in the environment; or write it here:\n"
                          "# %s = \"...\"\n",
                          key_env(s->provider), key);
        else
            put_setting(&b, key, s->api_key);
    }
    er_buf_puts(&b, "\n[agent]\n");
    if (er_str_empty(s->workspace))
        er_buf_puts(&b, "# The file tools' root; unset: the directory errand starts in.\n"
                        "# workspace = \"/path/to/project\"\n");
    else
        put_setting(&b, "workspace", s->workspace);
    er_buf_puts(&b, "\n[policy]\n"
                    "# What tool calls may do without asking: allow, ask or deny per class.\n"
                    "# write = ask\n# exec = ask\n# send = ask\n");
    return er_buf_detach(&b);
}

/* Writes text to path, mode 0600 (it may hold a key), replacing it whole:
 * a crash leaves the old file or the new one, never half of either. */
static int write_file(const char *path, const char *text)
{
    char *tmp = er_xasprintf("%s.setup-XXXXXX", path);
    int fd = mkstemp(tmp);
    int rc = 0;
    if (fd < 0) {
        fprintf(stderr, "errand: cannot write '%s': %s\n", path, strerror(errno));
        free(tmp);
        return EXIT_FAILED;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    if (!rc && (fchmod(fd, 0600) || fsync(fd)))
        rc = -1;
    if (close(fd))
        rc = -1;
    if (!rc && rename(tmp, path))
        rc = -1;
    if (rc) {
        fprintf(stderr, "errand: cannot write '%s': %s\n", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc ? EXIT_FAILED : EXIT_DONE;
}

/* Fills the answers still missing, by asking or from the defaults. */
static int gather(setup_answers *s, bool interactive, bool key_from_env)
{
    if (!s->provider) {
        const char *guess =
            getenv("ANTHROPIC_API_KEY") && !getenv("OPENAI_API_KEY") ? "anthropic" : "openai";
        s->provider = interactive ? ask("Provider (openai, anthropic or offline)", guess,
                                        "llm.provider", false)
                                  : er_xstrdup(guess);
        if (!s->provider)
            return -1;
    }
    if (er_str_eq(s->provider, "offline"))
        goto workspace;
    if (!s->base_url) {
        s->base_url = interactive
                          ? ask(er_str_eq(s->provider, "anthropic")
                                    ? "Base URL"
                                    : "Base URL (Ollama: http://127.0.0.1:11434/v1)",
                                default_url(s->provider),
                                er_str_eq(s->provider, "anthropic") ? "llm.anthropic_base_url"
                                                                    : "llm.openai_base_url",
                                false)
                          : er_xstrdup(default_url(s->provider));
        if (!s->base_url)
            return -1;
    }
    if (!s->model) {
        s->model = interactive ? ask("Model", default_model(s->provider), "llm.model", false)
                               : er_xstrdup(default_model(s->provider));
        if (!s->model)
            return -1;
    }
    if (!s->api_key && !key_from_env && interactive) {
        char q[160];
        snprintf(q, sizeof q, "API key (not shown; empty: read %s at each start)",
                 key_env(s->provider));
        s->api_key = ask(q, NULL, NULL, true);
        if (!s->api_key)
            return -1;
    }
workspace:
    if (!s->workspace && interactive) {
        s->workspace =
            ask("Default workspace (empty: the directory errand starts in)", NULL, NULL, false);
        if (!s->workspace)
            return -1;
    }
    return 0;
}

int cmd_setup(cli *c, cli_args *a)
{
    bool interactive = !cli_flag(a, "non-interactive");
    const char *key_file = cli_value(a, "api-key-file");
    bool key_from_env = cli_flag(a, "key-from-env");
    if (key_file && key_from_env)
        return cli_usage_error("setup", "--api-key-file and --key-from-env exclude each other");

    setup_answers s = { 0 };
    int rc = 0;
    const char *v;
    if ((v = cli_value(&c->global, "llm")) && !(rc = check_value("llm.provider", v)))
        s.provider = er_xstrdup(v);
    if (!rc && (v = cli_value(a, "base-url"))) {
        const char *setting =
            er_str_eq(s.provider, "anthropic") ? "llm.anthropic_base_url" : "llm.openai_base_url";
        if (!(rc = check_value(setting, v)))
            s.base_url = er_xstrdup(v);
    }
    if (!rc && (v = cli_value(&c->global, "model")))
        s.model = er_xstrdup(v);
    if (!rc && key_file)
        rc = read_key_file(key_file, &s.api_key);
    if (!rc && (v = cli_value(&c->global, "workspace"))) {
        char *real = realpath(v, NULL);
        struct stat st;
        if (!real || stat(real, &st) || !S_ISDIR(st.st_mode))
            rc = cli_usage_error("setup", "--workspace '%s' is not a directory", v);
        s.workspace = real;
    }

    char *path = NULL;
    if (!rc) {
        if ((v = cli_value(&c->global, "config"))) {
            path = er_xstrdup(v);
        } else {
            er_error err = { 0 };
            char *dir = er_xdg_dir("config", true, &err);
            if (!dir)
                rc = cli_fail(&err);
            else
                path = er_xasprintf("%s/config", dir);
            free(dir);
        }
    }
    struct stat st;
    if (!rc && stat(path, &st) == 0 && !cli_flag(a, "force")) {
        if (!interactive) {
            fprintf(stderr,
                    "errand: '%s' exists and was left as it is; --force replaces it (the old "
                    "one is kept as %s.bak)\n",
                    path, path);
            rc = EXIT_FAILED;
        } else if (!yes_no("A config file exists; replace it (the old one is kept as .bak)?")) {
            fprintf(stderr, "errand: '%s' left as it is\n", path);
            rc = EXIT_FAILED;
        }
    }
    if (!rc && interactive)
        fprintf(stderr, "errand setup: writing %s (Enter takes the [default])\n", path);
    if (!rc && gather(&s, interactive, key_from_env)) {
        fprintf(stderr, "\nerrand: setup stopped at the end of input; nothing written "
                        "(--non-interactive takes the answers from options)\n");
        rc = EXIT_FAILED;
    }
    if (!rc && stat(path, &st) == 0) {
        char *bak = er_xasprintf("%s.bak", path);
        if (rename(path, bak)) {
            fprintf(stderr, "errand: cannot keep the old config as '%s': %s\n", bak,
                    strerror(errno));
            rc = EXIT_FAILED;
        }
        free(bak);
    }
    if (!rc) {
        char *text = render(&s);
        rc = write_file(path, text);
        explicit_bzero(text, strlen(text));
        free(text);
    }
    if (!rc) {
        /* Read back the way every command reads it: a file errand refuses
         * is said now, not at the next start. */
        er_config cfg;
        er_error err = { 0 };
        if (er_config_load(&cfg, path, &err)) {
            rc = cli_fail(&err);
        } else {
            printf("Wrote %s: provider %s%s%s%s.\n", path, s.provider,
                   er_str_eq(s.provider, "offline") ? "" : ", model ",
                   er_str_eq(s.provider, "offline") ? "" : s.model,
                   er_str_eq(s.provider, "offline") || !er_str_empty(s.api_key) ? ""
                   : er_str_eq(s.provider, "anthropic") ? ", key from ANTHROPIC_API_KEY"
                                                        : ", key from OPENAI_API_KEY");
            printf("Check it with: errand doctor\n");
            er_config_release(&cfg);
        }
    }
    free(path);
    answers_release(&s);
    return rc;
}
