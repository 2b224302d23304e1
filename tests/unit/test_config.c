/* test_config.c — defaults, INI file, environment, flags, masking, errors. */
#include "check.h"
#include "errand/config.h"
#include "errand/alloc.h"
#include "errand/strv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/errand-cfg-XXXXXX";

static char *write_file(const char *name, const char *text)
{
    char *path = er_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_defaults(void)
{
    er_error err = { 0 };
    er_config cfg;
    setenv("XDG_CONFIG_HOME", dir, 1);
    setenv("XDG_DATA_HOME", "/data-home", 1);
    unsetenv("ERRAND_MAX_STEPS");
    CHECK_OK(er_config_load(&cfg, NULL, &err));
    CHECK_STR(cfg.database_url, "sqlite:///data-home/errand/errand.db");
    CHECK_INT(cfg.max_steps, 25);
    CHECK_INT(cfg.policy[ER_PERM_READ], ER_POLICY_ALLOW);
    CHECK_INT(cfg.policy[ER_PERM_WRITE], ER_POLICY_ASK);
    CHECK(cfg.config_path == NULL);
    CHECK_STR(er_config_llm_provider(&cfg), "offline");
    er_config_release(&cfg);
}

static void test_precedence(void)
{
    er_error err = { 0 };
    er_config cfg;
    char *path = write_file("a.ini", "# comment\n[agent]\nmax_steps = 7\nmax_seconds=9\n"
                                     "[llm]\nmodel = \"file-model\"\n[policy]\nexec = deny\n");
    setenv("ERRAND_MAX_STEPS", "11", 1);
    CHECK_OK(er_config_load(&cfg, path, &err));
    CHECK_INT(cfg.max_steps, 11);  /* environment beats the file */
    CHECK_INT(cfg.max_seconds, 9); /* file beats the default */
    CHECK_STR(cfg.model, "file-model");
    CHECK_INT(cfg.policy[ER_PERM_EXEC], ER_POLICY_DENY);
    CHECK_OK(er_config_set(&cfg, "agent.max_steps", "3", &err));
    CHECK_INT(cfg.max_steps, 3); /* flags are applied last */
    CHECK_OK(er_config_set(&cfg, "model", "bare-key", &err));
    CHECK_STR(cfg.model, "bare-key");
    CHECK_STR(cfg.config_path, path);
    er_config_release(&cfg);
    unsetenv("ERRAND_MAX_STEPS");
    free(path);
}

static void test_errors(void)
{
    er_error err = { 0 };
    er_config cfg;
    char *path = write_file("bad.ini", "[agent]\nmax_steps = lots\n");
    CHECK(er_config_load(&cfg, path, &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "bad.ini:2") != NULL);
    CHECK(strstr(err.msg, "lots") != NULL);
    free(path);
    path = write_file("bad2.ini", "[agent\n");
    CHECK(er_config_load(&cfg, path, &err) == ER_EINVAL);
    free(path);
    /* A long comment whose tail looks like a setting: refused whole, not
     * read in 4 KiB pieces (found while writing fuzz_config). */
    char *longline = er_xmalloc(4200);
    memset(longline, 'x', 4095);
    longline[0] = '#';
    snprintf(longline + 4095, 100, "model = evil\n");
    path = write_file("long.ini", longline);
    CHECK(er_config_load(&cfg, path, &err) == ER_ETOOBIG);
    CHECK(strstr(err.msg, "long.ini:1") != NULL);
    free(longline);
    free(path);
    path = write_file("bad3.ini", "[nosuch]\nkey = 1\n");
    CHECK(er_config_load(&cfg, path, &err) == ER_ENOTFOUND);
    CHECK(strstr(err.msg, "nosuch.key") != NULL);
    free(path);
    CHECK(er_config_load(&cfg, "/nonexistent/errand.conf", &err) == ER_EIO);
    CHECK_OK(er_config_load(&cfg, NULL, &err));
    CHECK(er_config_set(&cfg, "policy.send", "maybe", &err) == ER_EINVAL);
    CHECK(er_config_set(&cfg, "agent.max_steps", "-1", &err) == ER_EINVAL);
    setenv("ERRAND_POLICY_WRITE", "whatever", 1);
    er_config cfg2;
    CHECK(er_config_load(&cfg2, NULL, &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "ERRAND_POLICY_WRITE") != NULL);
    unsetenv("ERRAND_POLICY_WRITE");
    er_config_release(&cfg);
}

/* Sections named by the user: [mail.NAME] and [watch.NAME] share one parser. */
static void test_named_sections(void)
{
    er_error err = { 0 };
    er_config cfg;
    char *path = write_file("named.ini", "[watch.hn]\nurl = https://news.example/\n"
                                         "selector = .item\n[watch.gh-trending]\nevery = 1d\n"
                                         "[watch.hn]\nselector = .story\n"
                                         "[mail.work]\nimap_url = imaps://mail.example/\n");
    CHECK_OK(er_config_load(&cfg, path, &err));
    free(path);
    CHECK_STR(er_config_named(&cfg.watch_settings, "hn", "url"), "https://news.example/");
    CHECK_STR(er_config_named(&cfg.watch_settings, "hn", "selector"), ".story"); /* last wins */
    CHECK(er_config_named(&cfg.watch_settings, "hn", "every") == NULL);
    CHECK(er_config_named(&cfg.watch_settings, "h", "url") == NULL);
    CHECK_STR(er_config_named(&cfg.watch_settings, "gh-trending", "every"), "1d");
    CHECK_STR(er_config_mail(&cfg, "work", "imap_url"), "imaps://mail.example/");
    CHECK(er_config_named(&cfg.watch_settings, "work", "imap_url") == NULL);
    er_strv names = { 0 };
    er_config_section_names(&names, &cfg.watch_settings);
    CHECK(names.n == 2 && strcmp(names.v[0], "hn") == 0 && strcmp(names.v[1], "gh-trending") == 0);
    er_strv_free(&names);
    CHECK(er_config_set(&cfg, "watch.hn.colour", "red", &err) == ER_ENOTFOUND);
    CHECK(strstr(err.msg, "a watched source takes url, selector, every") != NULL);
    CHECK(er_config_set(&cfg, "watch.h n.url", "x", &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "watched source name 'h n'") != NULL);
    CHECK(er_config_set(&cfg, "mail.work.colour", "red", &err) == ER_ENOTFOUND);
    CHECK(strstr(err.msg, "a mail account takes imap_url") != NULL);
    CHECK(er_config_set(&cfg, "watch..url", "x", &err) == ER_ENOTFOUND);
    er_config_release(&cfg);
}

/* Words a setting must be one of, and section headers, are checked where
 * they are written: a typo is not found later as a failed task. */
static void test_checked_words(void)
{
    er_error err = { 0 };
    er_config cfg;
    unsetenv("ERRAND_LLM");
    unsetenv("ERRAND_LOG");
    CHECK_OK(er_config_load(&cfg, NULL, &err));
    CHECK(er_config_set(&cfg, "llm.provider", "openia", &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "openia") != NULL && strstr(err.msg, "anthropic") != NULL);
    CHECK_OK(er_config_set(&cfg, "llm.provider", "Offline", &err));
    CHECK(er_config_set(&cfg, "log.level", "loud", &err) == ER_EINVAL);
    CHECK(er_config_set(&cfg, "log.level", "", &err) == 0); /* empty: unset */
    CHECK_OK(er_config_set(&cfg, "log.level", "warning", &err));
    CHECK_OK(er_config_set(&cfg, "log.level", "debug", &err));
    CHECK(er_config_set(&cfg, "log.level", "deb", &err) == ER_EINVAL);
    CHECK_STR(cfg.bus_queue_type, "classic");
    CHECK(er_config_set(&cfg, "bus.queue_type", "mirrored", &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "mirrored") && strstr(err.msg, "quorum"));
    CHECK_OK(er_config_set(&cfg, "bus.queue_type", "quorum", &err));
    CHECK_STR(cfg.bus_queue_type, "quorum");
    er_config_release(&cfg);
    setenv("ERRAND_LLM", "gpt", 1);
    CHECK(er_config_load(&cfg, NULL, &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "ERRAND_LLM") != NULL);
    unsetenv("ERRAND_LLM");
    char *path = write_file("sect.ini", "[llm] extra\nmodel = m\n");
    CHECK(er_config_load(&cfg, path, &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "sect.ini:1") != NULL);
    free(path);
    path = write_file("empty.ini", "[ ]\nmodel = m\n");
    CHECK(er_config_load(&cfg, path, &err) == ER_EINVAL);
    free(path);
    path = write_file("comment.ini", "[llm] # the model\nmodel = m\n");
    CHECK_OK(er_config_load(&cfg, path, &err));
    CHECK_STR(cfg.model, "m");
    er_config_release(&cfg);
    free(path);
    /* A directory opens but cannot be read: an error, not an empty file. */
    CHECK(er_config_load(&cfg, dir, &err) == ER_EIO);
    CHECK(strstr(err.msg, dir) != NULL);
}

static void test_masking(void)
{
    er_error err = { 0 };
    er_config cfg;
    setenv("OPENAI_API_KEY", "sk-abcdefghijklmnop", 1);
    setenv("DATABASE_URL", "postgresql://bob:hunter22@db/errand", 1);
    /* Issue 22: URL settings that are not secret carry passwords too. */
    setenv("OPENAI_BASE_URL", "http://proxy:basepw77@127.0.0.1:9/v1", 1);
    setenv("ANTHROPIC_BASE_URL", "https://u:anthpw88@api.example/", 1);
    setenv("OAUTH_ISSUER_URL", "https://x:issuerpw99@id.example/", 1);
    CHECK_OK(er_config_load(&cfg, NULL, &err));
    char *base = er_config_get_text(&cfg, er_config_find("llm.openai_base_url"), true);
    CHECK_STR(base, "http://proxy:***@127.0.0.1:9/v1");
    free(base);
    CHECK_STR(er_config_llm_provider(&cfg), "openai");
    for (size_t i = 0; i < er_config_nkeys; i++) {
        char *v = er_config_get_text(&cfg, &er_config_keys[i], true);
        CHECK(!v || (!strstr(v, "abcdefghijklmnop") && !strstr(v, "hunter22") &&
                     !strstr(v, "basepw77") && !strstr(v, "anthpw88") && !strstr(v, "issuerpw99")));
        free(v);
    }
    unsetenv("OPENAI_API_KEY");
    unsetenv("DATABASE_URL");
    unsetenv("OPENAI_BASE_URL");
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("OAUTH_ISSUER_URL");
    er_config_release(&cfg);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_defaults();
    test_precedence();
    test_errors();
    test_named_sections();
    test_checked_words();
    test_masking();
    char *cmd = er_xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
    return check_done();
}
