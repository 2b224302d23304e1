/* mcp_serve.c — `errand mcp serve`: errand as an MCP server on stdio, so other
 * MCP clients can hand requests to its agents.
 *
 * The transport only: one JSON-RPC message a line on stdin, one answer a line
 * on stdout; the methods are mcp_server.h's.  A tool call runs as a task like
 * `errand ask`, under the same policy: with no terminal to ask on, a call that
 * needs approval is refused unless `errand --yes mcp serve`.  Calls are
 * answered one at a time, in order. */
#include "cli.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/mcp_server.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES (4u * 1024 * 1024) /* one message at most */

static void send_msg(FILE *out, cJSON *msg)
{
    char *text = cJSON_PrintUnformatted(msg);
    fprintf(out, "%s\n", text);
    fflush(out);
    free(text);
    cJSON_Delete(msg);
}

/* A tool call runs as a task, like `errand ask`. */
static int ask(void *ctx, const char *agent, const char *request, char **text, bool *failed,
               er_error *err)
{
    cli *c = ctx;
    er_submit sub = { .request = request,
                      .agent = agent,
                      .approve_all = cli_flag(&c->global, "yes") };
    cli_view v = { 0 }; /* no terminal: approvals go by the policy and --yes */
    cli_outcome o;
    int rc = cli_run_request(c, &sub, &v, &o, err);
    if (rc) {
        cli_outcome_release(&o); /* cleared first, whatever it got to */
        return rc;
    }
    *failed = o.status != ER_TASK_DONE;
    *text = !*failed ? er_xstrdup(o.answer ? o.answer : "")
                     : er_xasprintf("task %s %s: %s", o.task_id, er_task_status_name(o.status),
                                    o.error ? o.error : "no reason given");
    cli_outcome_release(&o);
    return 0;
}

/* One line of stdin into b (capped at LINE_MAX_BYTES: *too_big, the rest of
 * the line read and dropped, so a huge message costs no more memory than
 * that).  false at the end of input. */
static bool read_line(er_buf *b, bool *too_big)
{
    er_buf_reset(b);
    *too_big = false;
    char chunk[8192];
    bool any = false;
    while (fgets(chunk, sizeof chunk, stdin)) {
        any = true;
        size_t n = strlen(chunk);
        if (!*too_big && er_buf_append(b, chunk, n) != 0)
            *too_big = true;
        if (n && chunk[n - 1] == '\n')
            return true;
    }
    return any;
}

int cli_mcp_serve(cli *c)
{
    er_error err = { 0 };
    if (cli_env(c, &err))
        return cli_fail(&err);
    /* stdout is the protocol's: whatever else would print there goes to stderr. */
    int fd = dup(STDOUT_FILENO);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        er_error_set(&err, ER_EIO, "cannot set up stdout for the MCP server");
        return cli_fail(&err);
    }
    er_mcp_host host = { .ctx = c, .ask = ask };
    er_buf line;
    er_buf_init(&line, LINE_MAX_BYTES);
    bool too_big;
    while (read_line(&line, &too_big)) {
        size_t n = line.len;
        while (n > 0 && (line.ptr[n - 1] == '\n' || line.ptr[n - 1] == '\r'))
            n--;
        cJSON *answer = NULL;
        if (too_big)
            answer = er_mcp_server_error(NULL, ER_MCP_INVALID_REQUEST,
                                         "Invalid Request: the message is over 4 MB");
        else if (n > 0)
            answer = er_mcp_server_handle_text(&host, line.ptr, n);
        if (answer)
            send_msg(out, answer);
    }
    er_buf_release(&line);
    fclose(out);
    return EXIT_DONE;
}
