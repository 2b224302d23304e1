/* test_markdown.c — Markdown laid out for a terminal: bullets, task boxes,
 * aligned and wrapped tables, inline styles with ER_MD_ANSI, code blocks and
 * non-tables left alone, and the same result fed a byte at a time. */
#include "check.h"
#include "errand/markdown.h"

#include <locale.h>

static void check_md(const char *in, int width, unsigned flags, const char *want)
{
    char *got = er_md_render(in, width, flags);
    CHECK_STR(got, want);
    free(got);
    /* Streamed one byte at a time: the same text. */
    er_md *m = er_md_new(width, flags);
    er_buf out = ER_BUF_INIT;
    for (size_t i = 0; in[i]; i++)
        er_md_feed(m, in + i, 1, &out);
    er_md_finish(m, &out);
    CHECK_STR(er_buf_cstr(&out), want);
    er_buf_release(&out);
    er_md_free(m);
}

static void test_lists(void)
{
    check_md("- one\n  * two\n+ three\n1. first\n", 80, 0, "• one\n  • two\n• three\n1. first\n");
    check_md("- [ ] todo\n- [x] done\n", 80, 0, "☐ todo\n☑ done\n");
    /* rules, emphasis and lines without a blank after the marker are not items */
    check_md("- - -\n**bold** start\n-x\n", 80, 0, "- - -\n**bold** start\n-x\n");
    check_md("last line without end\n- item", 80, 0, "last line without end\n• item");
}

static void test_tables(void)
{
    check_md("| Name | Size | Kind |\n|:-----|-----:|:----:|\n| a.c | 12 | c |\n"
             "| long_name.c | 1200 | header |\n",
             80, 0,
             "Name        │ Size │  Kind\n"
             "────────────┼──────┼───────\n"
             "a.c         │   12 │   c\n"
             "long_name.c │ 1200 │ header\n");
    /* without outer pipes, an escaped pipe in a cell, a short row */
    check_md("a | b\n--- | ---\nx \\| y | 2\nz\n", 80, 0, "a     │ b\n──────┼──\nx | y │ 2\nz\n");
    check_md("| a | b |\n|---|---|\n| 1 |\n", 80, 0, "a │ b\n──┼──\n1 │\n");
    /* too wide: the widest column is narrowed and its cells wrapped at blanks */
    check_md("| k | text |\n|---|---|\n| 1 | the quick brown fox jumps over the lazy dog |\n", 24,
             0,
             "k │ text\n"
             "──┼─────────────────────\n"
             "1 │ the quick brown fox\n"
             "  │ jumps over the lazy\n"
             "  │ dog\n");
    /* a line with a pipe and no delimiter row after it is prose */
    check_md("a | b\nplain\n", 80, 0, "a | b\nplain\n");
    check_md("a | b\n", 80, 0, "a | b\n");
}

static void test_code_blocks(void)
{
    check_md("```sh\n- not a list\n| a | b |\n|---|---|\n```\n- a list\n", 80, 0,
             "```sh\n- not a list\n| a | b |\n|---|---|\n```\n• a list\n");
}

static void test_ansi(void)
{
    check_md("# Title **x**\nsome **bold**, *it*, `code` and snake_case_name\n", 80, ER_MD_ANSI,
             "\033[1mTitle \033[1mx\033[0m\033[0m\n"
             "some \033[1mbold\033[0m, \033[3mit\033[0m, \033[36mcode\033[0m and "
             "snake_case_name\n");
    check_md("> quoted\n2 * 3 * 4\n", 80, ER_MD_ANSI, "\033[2m│\033[0m quoted\n2 * 3 * 4\n");
    /* the markers of a table cell are dropped so that columns line up */
    check_md("| a | b |\n|---|---|\n| `x` | **y** |\n", 80, ER_MD_ANSI,
             "\033[1ma\033[0m \033[2m│\033[0m \033[1mb\033[0m\n"
             "\033[2m──┼──\033[0m\n"
             "x \033[2m│\033[0m y\n");
    /* without ER_MD_ANSI inline text is left for the caller to colour */
    check_md("# T\n`c` **b**\n", 80, 0, "# T\n`c` **b**\n");
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    test_lists();
    test_tables();
    test_code_blocks();
    test_ansi();
    return check_done();
}
