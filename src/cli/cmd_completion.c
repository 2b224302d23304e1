/* cmd_completion.c — `errand completion bash|zsh|fish`: shell completion
 * scripts generated from the command and option tables, so they can never
 * offer a command or option errand does not have (tests/e2e/t_completion.sh
 * checks them against `errand --help`).
 *
 * Subcommand words (task list|show|cancel, user add|…) come from each
 * command's usage line: the lower-case words that start its alternatives. */
#include "cli.h"
#include "errand/agent.h"
#include "errand/buf.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Calls fn for each subcommand word in a usage line ("list|show ID|cancel ID"):
 * the first word of each alternative when it is a lower-case word, once. */
static void each_subcommand(const char *usage, void (*fn)(const char *w, size_t n, void *p),
                            void *payload)
{
    er_buf seen = ER_BUF_INIT;
    er_buf_putc(&seen, ' ');
    for (const char *p = usage; *p;) {
        while (*p == ' ' || *p == '\n')
            p++;
        size_t n = 0;
        while (islower((unsigned char)p[n]) || (n && p[n] == '-'))
            n++;
        bool word = n && (p[n] == '\0' || p[n] == ' ' || p[n] == '|' || p[n] == '\n');
        char key[64];
        snprintf(key, sizeof key, " %.*s ", (int)(n < 60 ? n : 60), p);
        if (word && !strstr(er_buf_cstr(&seen), key)) {
            er_buf_puts(&seen, key + 1);
            fn(p, n, payload);
        }
        p += strcspn(p, "|");
        if (*p == '|')
            p++;
    }
    er_buf_release(&seen);
}

static void put_word(const char *w, size_t n, void *payload)
{
    printf("%s%.*s", *(bool *)payload ? " " : "", (int)n, w);
    *(bool *)payload = true;
}

static void print_subcommands(const cli_cmd *cmd)
{
    bool any = false;
    each_subcommand(cmd->usage, put_word, &any);
}

/* Options as words: "--json -a --agent …" (sep between them). */
static void print_opts(const cli_opt *opts, bool with_arg_only, const char *sep)
{
    bool first = true;
    for (size_t i = 0; opts && opts[i].name; i++) {
        if (with_arg_only && !opts[i].arg)
            continue;
        printf("%s--%s", first ? "" : sep, opts[i].name);
        first = false;
        if (opts[i].short_name)
            printf("%s-%c", sep, opts[i].short_name);
    }
}

/* "|--name|-n": an option whose value the scripts skip over. */
static void print_skip(const cli_opt *o)
{
    printf("|--%s", o->name);
    if (o->short_name)
        printf("|-%c", o->short_name);
}

static void print_agents(void)
{
    for (size_t i = 0; er_agents[i]; i++)
        printf("%s%s", i ? " " : "", er_agents[i]->name);
}

/* ---- bash ---- */

static void bash_script(void)
{
    printf("# bash completion for errand (errand completion bash)\n_errand() {\n"
           "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i\n"
           "  for ((i = 1; i < COMP_CWORD; i++)); do\n    case ${COMP_WORDS[i]} in\n      ");
    print_opts(cli_global_opts, true, "|");
    for (size_t c = 0; cli_commands[c].name; c++)
        if (cli_commands[c].opts && cli_commands[c].opts[0].name)
            for (size_t i = 0; cli_commands[c].opts[i].name; i++)
                if (cli_commands[c].opts[i].arg)
                    print_skip(&cli_commands[c].opts[i]);
    printf(") ((i++)) ;;\n      -*) ;;\n      *) cmd=${COMP_WORDS[i]}; break ;;\n    esac\n"
           "  done\n  case $prev in\n    --agent|-a) COMPREPLY=($(compgen -W \"");
    print_agents();
    printf("\" -- \"$cur\")); return ;;\n"
           "    --config|--file|-f) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
           "    --workspace|-w) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n  esac\n"
           "  local words=\"");
    print_opts(cli_global_opts, false, " ");
    printf("\"\n  case $cmd in\n    '') words+=\"");
    for (size_t c = 0; cli_commands[c].name; c++)
        printf(" %s", cli_commands[c].name);
    printf("\" ;;\n");
    for (size_t c = 0; cli_commands[c].name; c++) {
        printf("    %s) words+=\" ", cli_commands[c].name);
        print_subcommands(&cli_commands[c]);
        printf(" ");
        print_opts(cli_commands[c].opts, false, " ");
        printf("\" ;;\n");
    }
    printf("  esac\n  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\n"
           "complete -F _errand errand\n");
}

/* ---- zsh ---- */

static void zsh_script(void)
{
    printf("#compdef errand\n# zsh completion for errand (errand completion zsh)\n"
           "_errand() {\n  local cmd= i\n  for ((i = 2; i < CURRENT; i++)); do\n"
           "    case ${words[i]} in\n      ");
    print_opts(cli_global_opts, true, "|");
    for (size_t c = 0; cli_commands[c].name; c++)
        for (size_t i = 0; cli_commands[c].opts && cli_commands[c].opts[i].name; i++)
            if (cli_commands[c].opts[i].arg)
                print_skip(&cli_commands[c].opts[i]);
    printf(") ((i++)) ;;\n      -*) ;;\n      *) cmd=${words[i]}; break ;;\n    esac\n  done\n"
           "  case ${words[CURRENT-1]} in\n    --agent|-a) compadd -- ");
    print_agents();
    printf("; return ;;\n    --config|--file|-f) _files; return ;;\n"
           "    --workspace|-w) _files -/; return ;;\n  esac\n"
           "  local -a opts=(");
    print_opts(cli_global_opts, false, " ");
    printf(")\n  case $cmd in\n    '') compadd -- ");
    for (size_t c = 0; cli_commands[c].name; c++)
        printf(" %s", cli_commands[c].name);
    printf(" $opts ;;\n");
    for (size_t c = 0; cli_commands[c].name; c++) {
        printf("    %s) compadd -- ", cli_commands[c].name);
        print_subcommands(&cli_commands[c]);
        printf(" ");
        print_opts(cli_commands[c].opts, false, " ");
        printf(" $opts ;;\n");
    }
    printf("  esac\n}\n"
           "if [[ ${funcstack[1]} = _errand ]]; then _errand \"$@\"; "
           "else compdef _errand errand; fi\n");
}

/* ---- fish ---- */

static void fish_opts(const cli_opt *opts, const char *cond)
{
    for (size_t i = 0; opts && opts[i].name; i++) {
        printf("complete -c errand%s%s -l %s", cond ? " -n " : "", cond ? cond : "", opts[i].name);
        if (opts[i].short_name)
            printf(" -s %c", opts[i].short_name);
        if (opts[i].arg)
            printf(" -r");
        printf(" -d '");
        for (const char *p = opts[i].help; *p; p++)
            fputs(*p == '\'' ? "\\'" : (char[2]){ *p, 0 }, stdout);
        printf("'\n");
    }
}

static void fish_script(void)
{
    printf("# fish completion for errand (errand completion fish)\ncomplete -c errand -f\n");
    fish_opts(cli_global_opts, NULL);
    printf("complete -c errand -l agent -s a -x -a '");
    print_agents();
    printf("'\ncomplete -c errand -l config -l file -s f -F\n");
    for (size_t c = 0; cli_commands[c].name; c++) {
        printf("complete -c errand -n __fish_use_subcommand -a %s -d '", cli_commands[c].name);
        for (const char *p = cli_commands[c].summary; *p; p++)
            fputs(*p == '\'' ? "\\'" : (char[2]){ *p, 0 }, stdout);
        printf("'\n");
        char cond[96];
        snprintf(cond, sizeof cond, "'__fish_seen_subcommand_from %s'", cli_commands[c].name);
        bool any = false;
        printf("complete -c errand -n %s -a '", cond);
        each_subcommand(cli_commands[c].usage, put_word, &any);
        printf("'\n");
        fish_opts(cli_commands[c].opts, cond);
    }
}

int cmd_completion(cli *c, cli_args *a)
{
    (void)c;
    static const struct {
        const char *shell;
        void (*print)(void);
    } shells[] = { { "bash", bash_script }, { "zsh", zsh_script }, { "fish", fish_script } };
    if (a->npos != 1)
        return cli_usage_error("completion", "which shell? bash, zsh or fish");
    for (size_t i = 0; i < ER_ARRAY_LEN(shells); i++) {
        if (er_str_eq(shells[i].shell, a->pos[0])) {
            shells[i].print();
            return EXIT_DONE;
        }
    }
    return cli_usage_error("completion", "no completion for shell '%s'; bash, zsh or fish",
                           a->pos[0]);
}
