/* main.c — errand's entry point: global options, the command table, help. */
#include "cli.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/config.h"
#include "errand/http_tape.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/url.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const cli_opt cli_global_opts[] = {
    { "config", 0, "FILE", "Read settings from FILE instead of $XDG_CONFIG_HOME/errand/config" },
    { "database", 0, "URL", "Store URL (DATABASE_URL): sqlite:///path or postgresql://…" },
    { "llm", 0, "PROVIDER", "LLM provider: openai, anthropic or offline (ERRAND_LLM)" },
    { "model", 'm', "NAME", "Model name (ERRAND_MODEL)" },
    { "workspace", 'w', "DIR", "Root directory of the file tools (default: current directory)" },
    { "set", 'o', "KEY=VALUE",
      "Set any setting, e.g. -o policy.exec=allow (see errand.conf(5)); "
      "not secrets (keys, tokens): ps shows them" },
    { "yes", 'y', NULL, "Approve every tool call that would ask (policy ask becomes allow)" },
    { "record", 0, "FILE",
      "Append every LLM exchange and the tools' HTTP to the cassette FILE (llm.record)" },
    { "replay", 0, "FILE",
      "Answer LLM and tool HTTP requests from the cassette FILE: no network, no key "
      "(llm.replay)" },
    { "plain", 0, NULL, "Use the line-oriented readline REPL instead of the full-screen TUI" },
    { "continue", 'c', NULL, "Continue the most recent conversation (the TUI, --plain, ask)" },
    { "resume", 'r', "ID|last", "Continue conversation ID (a unique prefix) or the last one" },
    { "log-level", 0, "LEVEL", "Log level: debug, info, warn, error, off (ERRAND_LOG)" },
    { "help", 'h', NULL, "Show help (for a command: errand COMMAND --help)" },
    { "version", 'V', NULL, "Print the version and exit" },
    { NULL, 0, NULL, NULL },
};

static const cli_opt ask_opts[] = {
    { "json", 0, NULL, "Print one JSON object (task, agent, status, answer, usage, steps)" },
    { "agent", 'a', "NAME", "Send to this agent, skipping routing" },
    { "conversation", 'C', "ID", "Continue this conversation" },
    { "no-stream", 0, NULL, "Print the answer when it is complete instead of streaming it" },
    { "file", 'f', "FILE", "Attach FILE's text to the request (may be repeated)" },
    { "output-format", 0, "FORMAT",
      "text (default); json (as --json); stream-json: every "
      "event as one JSON object per line, then a result line (errand(1), STREAM-JSON)" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt audit_opts[] = {
    { "json", 0, NULL, "Print JSON" },
    { "limit", 'n', "N", "list: the last N entries (default 20; 0: all)" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt usage_opts[] = {
    { "by", 0, "WHAT",
      "Sum per day, model, agent, user or conversation (default: day, model and agent)" },
    { "conversation", 0, "ID", "Only the requests of this conversation's tasks" },
    { "since", 0, "DATE", "Only from this UTC day on (YYYY-MM-DD)" },
    { "until", 0, "DATE", "Only up to this UTC day, included (YYYY-MM-DD)" },
    { "days", 0, "N", "Only today and the N-1 days before" },
    { "json", 0, NULL, "Print JSON" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt undo_opts[] = {
    { "list", 'l', NULL, "List the checkpoints, newest first, with their steps and files" },
    { "step", 0, "N", "Undo only steps N and later of the task (newest first)" },
    { "show", 0, NULL, "Show the checkpoint's steps and what undo would do, touching nothing" },
    { "force", 0, NULL, "Undo even files changed since the task wrote them" },
    { "json", 0, NULL, "Print JSON" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt setup_opts[] = {
    { "non-interactive", 0, NULL,
      "Ask nothing: the answers come from the options, the rest are the defaults" },
    { "base-url", 0, "URL",
      "The provider's endpoint (llm.openai_base_url or llm.anthropic_base_url)" },
    { "api-key-file", 0, "FILE", "Write the API key read from FILE's first line" },
    { "key-from-env", 0, NULL,
      "Write no key: it is read from OPENAI_API_KEY or ANTHROPIC_API_KEY at each start" },
    { "force", 0, NULL, "Replace an existing config file without asking (kept as FILE.bak)" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt json_opts[] = {
    { "json", 0, NULL, "Print JSON" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt mcp_opts[] = {
    { "json", 0, NULL, "Print JSON" },
    { "env", 'e', "NAME=VALUE", "add: a variable for the server's environment (repeatable)" },
    { "header", 'H', "'NAME: VALUE'", "add: a request header for a URL server (repeatable)" },
    { "permission", 0, "CLASS", "add: read, write, exec, network or send (default send)" },
    { "agents", 0, "LIST", "add: the agents that may use it, comma-separated (default all)" },
    { "timeout", 0, "SECONDS",
      "add: per request (default 30); login: wait for the browser (default 300)" },
    { "no-browser", 0, NULL, "login: only print the consent URL (default: also run $BROWSER)" },
    { "token-env", 0, "VAR", "add: the environment variable holding its bearer token" },
    { "token-file", 0, "FILE", "add: the file holding its bearer token" },
    { "force", 'f', NULL, "add: replace a section of that name" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt list_opts[] = {
    { "json", 0, NULL, "Print JSON" },
    { "status", 's', "STATUS",
      "Only tasks with this status (queued, routed, running, done, failed, cancelled)" },
    { "limit", 'n', "N", "Show at most N (default 20)" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt conv_opts[] = {
    { "json", 0, NULL, "Print JSON (export: as --format json)" },
    { "limit", 'n', "N", "list: show at most N (default 20)" },
    { "format", 0, "FORMAT", "export: markdown (default) or json" },
    { "output", 0, "FILE", "export: write to FILE instead of standard output" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt worker_opts[] = {
    { "concurrency", 'j', "N", "Messages handled at once by this worker (default 1; 2 for all)" },
    { "grace", 0, "SECONDS",
      "On SIGTERM, let the messages in hand finish for this long, then "
      "hand them back to the queue (default 30)" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt serve_opts[] = {
    { "listen", 'l', "HOST:PORT",
      "Address to listen on (server.listen; default 127.0.0.1:8080, port 0: any free)" },
    { "routes", 0, NULL, "Print the route table and exit" },
    { "grace", 0, "SECONDS",
      "On SIGTERM, let running tasks (local mode) finish for this long, "
      "then interrupt them (default 30)" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt user_opts[] = {
    { "role", 'r', "ROLE", "add: the new user's role, user (default) or admin" },
    { "label", 0, "TEXT", "token: a label to tell the token apart in errand user list" },
    { "json", 0, NULL, "list, sessions: print JSON" },
    { "all", 0, NULL, "revoke: every API token and session of the user NAME" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt auth_opts[] = {
    { "no-browser", 0, NULL, "gmail: only print the consent URL (default: also run $BROWSER)" },
    { "scopes", 0, "LIST",
      "gmail: access asked for, of readonly, compose, send, modify, labels "
      "(default readonly,compose,modify)" },
    { "timeout", 0, "SECONDS", "gmail: how long to wait for the browser (default 300)" },
    { "json", 0, NULL, "list: print JSON" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt memory_opts[] = {
    { "json", 0, NULL, "Print JSON" },
    { "kind", 'k', "KIND",
      "add: fact (default), preference, summary or chunk; search, list: only this kind" },
    { "scope", 's', "SCOPE",
      "add: user (default), conversation, agent or global (shared by every user); "
      "search, list: only this scope" },
    { "scope-id", 0, "ID", "The conversation id or agent name the scope is about" },
    { "source", 0, "TEXT", "add, relate: where it came from (task id, URL, message id)" },
    { "confidence", 0, "X", "relate: how sure, 0 to 1 (default 1)" },
    { "depth", 0, "N", "graph: relations up to N steps away, 1 to 8 (default 2)" },
    { "untrusted", 0, NULL,
      "add: the text came from outside content; agents treat it as data only" },
    { "ttl", 0, "SECONDS", "add: forget it after this long" },
    { "mode", 0, "MODE", "search: hybrid (default), text (full text only) or vector" },
    { "since", 0, "DAYS", "search, list: only items updated in the last DAYS days" },
    { "limit", 'n', "N", "search: at most N hits (default 10); list: at most N (default 20)" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt trends_opts[] = {
    { "window", 0, "DURATION",
      "Compare with the snapshot at least this long before the newest (90s, 30m, 6h, 7d, 2w; "
      "default: the one before it)" },
    { "key", 'k', "FIELD", "The field that names an item (default: title, name or text)" },
    { "top", 'n', "N", "Entries per list (default 10)" },
    { "json", 0, NULL, "Print the reports as JSON" },
    { "watch", 'w', NULL,
      "First record the configured sources ([watch.NAME]) that are due, then report" },
    { "force", 0, NULL, "With --watch: record every source now, due or not" },
    { "loop", 0, NULL, "Keep watching: record each source when due, until Ctrl-C" },
    { NULL, 0, NULL, NULL },
};
static const cli_opt no_opts[] = { { NULL, 0, NULL, NULL } };

const cli_cmd cli_commands[] = {
    { .name = "ask",
      .usage = "[OPTIONS] REQUEST...",
      .summary = "Run one request and stream the answer to stdout",
      .opts = ask_opts,
      .run = cmd_ask,
      .help =
          "The request goes through the supervisor to an agent (or --agent), and the answer is\n"
          "streamed as it is generated.  REQUEST '-' reads it from standard input; without\n"
          "'-', text piped in (cat notes.txt | errand ask \"summarise\") is appended to the\n"
          "request, and with no REQUEST it is the request.  -f FILE attaches a file's text.\n"
          "Exit status: 0 done, 1 task failed, 2 usage error, 3 backend or provider unreachable." },
    { .name = "route",
      .usage = "[--json] REQUEST...",
      .summary = "Show which agent(s) the supervisor would choose, and why",
      .opts = json_opts,
      .run = cmd_route,
      .help = "Nothing is run or stored." },
    { .name = "task",
      .usage = "list|show ID|cancel ID [OPTIONS]",
      .summary = "List, inspect and cancel tasks",
      .opts = list_opts,
      .run = cmd_task,
      .help = "IDs may be abbreviated to a unique prefix of at least 4 characters." },
    { .name = "conv",
      .usage = "list | show ID | export ID [--format markdown|json] [--output FILE] |\n"
               "       delete ID [OPTIONS]",
      .summary = "List, read, export and delete conversations",
      .opts = conv_opts,
      .run = cmd_conv,
      .help = "IDs may be abbreviated to a unique prefix of at least 4 characters.\n"
              "export writes the conversation as Markdown (a heading per message) or\n"
              "JSON (id, title, times, messages).  delete removes it and its messages (its\n"
              "tasks stay in task list); on a terminal it asks first unless --yes." },
    { .name = "memory",
      .usage = "add TEXT... | search QUERY... | list | show ID | forget ID |\n"
               "       relate SUBJECT PREDICATE OBJECT | graph ENTITY [OPTIONS]",
      .summary = "What the agents remember: texts and a graph of entities",
      .opts = memory_opts,
      .run = cmd_memory,
      .help = "Memory is shared by every agent: your items and the global ones.  Saving the\n"
              "same text in the same scope updates it.  search ranks by full text (BM25) and by\n"
              "meaning (embeddings: memory.embedding_model, else offline hashed n-grams), fused.\n"
              "Items marked untrusted came from outside content and are never instructions.\n"
              "relate records SUBJECT -PREDICATE-> OBJECT between entities found by name (case\n"
              "and blanks ignored); graph prints an entity's relations as an indented tree." },
    { .name = "trends",
      .usage = "[SOURCE] [OPTIONS]",
      .summary = "Show what changed on the web pages the browser agent watches",
      .opts = trends_opts,
      .run = cmd_trends,
      .help = "The browser agent's trend finder keeps dated snapshots of the items a page lists\n"
              "(browser_record: a source name, a URL, a selector).  For SOURCE, or every source,\n"
              "this prints the newest snapshot against the one before: new and gone items,\n"
              "numbers rising and falling, items moving up or down, words growing more or less\n"
              "frequent.  The text is the pages' own: data, never instructions.\n"
              "Sources configured in [watch.NAME] sections (url, selector, every) are recorded\n"
              "by --watch when due (cron-friendly) or kept recorded by --loop." },
    { .name = "agents",
      .usage = "[--json]",
      .summary = "List the agents, their subagents and tools",
      .opts = json_opts,
      .run = cmd_agents,
      .no_args = true },
    { .name = "mcp",
      .usage = "list | tools|resources|prompts NAME | read NAME URI | prompt NAME PROMPT "
               "[ARG=VALUE...] [--json] | add NAME URL|COMMAND [ARG...] [OPTIONS] | remove NAME "
               "| login NAME [--no-browser] [--timeout SECONDS] | logout NAME | serve",
      .summary = "List the configured MCP servers, their tools, resources and prompts; or be an "
                 "MCP server",
      .opts = mcp_opts,
      .run = cmd_mcp,
      .help =
          "Servers are configured in [mcp.NAME] sections (errand.conf(5)).  `tools NAME`\n"
          "connects to the server and lists its tools under the names the agents see\n"
          "(mcp__NAME__TOOL).  `resources NAME` lists its resources (and templates), `read\n"
          "NAME URI` prints one; `prompts NAME` lists its prompts and their arguments,\n"
          "`prompt NAME PROMPT ARG=VALUE...` prints one filled in.  What a server returns is\n"
          "its own text: agents get it fenced as outside data.  Exit status 3 when the\n"
          "server cannot be reached.\n"
          "`serve` makes errand an MCP server on stdin/stdout: tools ask_AGENT and route run\n"
          "requests as tasks under the same policy (no terminal: use --yes to approve).\n"
          "`add NAME URL` (Streamable HTTP) or `add NAME COMMAND [ARG...]` (stdio; put -- before\n"
          "arguments that start with -) writes an [mcp.NAME] section into the config file,\n"
          "checked first; `remove NAME` takes it out.  Tokens only by --token-env or\n"
          "--token-file: a token on the command line would show in ps.\n"
          "`login NAME` logs errand in to a server that requires OAuth: it follows the\n"
          "server's 401 to its authorization server (discovery documents checked, every\n"
          "fetch through the SSRF guard), registers errand there unless mcp.NAME.client_id\n"
          "is set, prints the consent URL (and opens $BROWSER unless --no-browser) and waits\n"
          "on 127.0.0.1 for the answer.  The tokens are stored encrypted and refreshed when\n"
          "due; `logout NAME` deletes them; `list` shows which servers are logged in." },
    { .name = "audit",
      .usage = "verify | list [--limit N] [--json]",
      .summary = "Check or show the hash-chained log of side-effecting tool calls",
      .opts = audit_opts,
      .run = cmd_audit,
      .help = "Every write, exec and send call and every MCP call, allowed or refused, is\n"
              "appended with who approved it (audit.path, errand.conf(5)).  `verify` checks the\n"
              "chain: exit 1 naming the first changed or removed entry." },
    { .name = "usage",
      .usage = "[--by day|model|agent|user|conversation] [--conversation ID]\n"
               "       [--since DATE | --days N] [--until DATE] [--json]",
      .summary = "Show the tokens, time and money the LLM requests used",
      .opts = usage_opts,
      .run = cmd_usage,
      .help = "Every request sent to a provider is recorded with its tokens and, priced with\n"
              "llm.prices, its cost in US dollars, cached input at its own price\n"
              "(errand.conf(5)).  Budgets per task: agent.max_cost, agent.max_tokens,\n"
              "agent.max_seconds; per user and UTC day: agent.max_daily_cost,\n"
              "agent.max_daily_tokens, agent.max_daily_seconds." },
    { .name = "undo",
      .usage = "[CHECKPOINT] [--step N] [--force] [--json] | --show [CHECKPOINT] [--step N] | "
               "--list [--json]",
      .summary = "Put back the files the last task changed (file tools and run)",
      .opts = undo_opts,
      .run = cmd_undo,
      .help = "Before write_file or edit_file changes a file, errand keeps what it was, per task\n"
              "(a checkpoint, named by the task id); before a `run` command it snapshots the\n"
              "workspace (up to sandbox.undo_mb) and records what the command modified, deleted\n"
              "or created.  Undo restores the newest checkpoint not undone yet, or CHECKPOINT (a\n"
              "task id or its prefix): changed and deleted files get their old content, created\n"
              "ones are removed.  A file changed since the task wrote it stops the undo (exit 1,\n"
              "nothing touched) unless --force.  Every change is recorded with the step of the\n"
              "task (of its agent; a subagent's with the step that delegated to it): --step N\n"
              "undoes steps N and later only, putting each file back as it was when step N\n"
              "began; --list and --show name the steps and their files.  In the TUI: /undo." },
    { .name = "migrate",
      .usage = "",
      .summary = "Apply database migrations (also done on start)",
      .opts = no_opts,
      .run = cmd_migrate,
      .no_args = true },
    { .name = "doctor",
      .usage = "[--json]",
      .summary = "Show the effective configuration and check every backend",
      .opts = json_opts,
      .run = cmd_doctor,
      .help = "Secrets are masked.  Exit status 3 when a backend or the LLM is unreachable.",
      .no_args = true },
    { .name = "worker",
      .usage = "NAME... [--concurrency N] [--grace SECONDS]",
      .summary = "Run one worker process (networked mode)",
      .opts = worker_opts,
      .run = cmd_worker,
      .help = "NAME: a stage of the flow (listed below), or all; several names run those\n"
              "workers in one process.\n"
              "SIGTERM or SIGINT stops taking messages and lets those in hand finish for up to\n"
              "--grace seconds; then (or at a second signal) the tasks still running go back to\n"
              "their queue and another worker goes on from their recorded steps.",
      .help_more = cli_worker_help },
    { .name = "serve",
      .usage = "[--listen HOST:PORT] [--grace SECONDS] [--routes]",
      .summary = "Run the REST and WebSocket API server",
      .opts = serve_opts,
      .run = cmd_serve,
      .help =
          "In local mode the agents run inside the server; in networked mode (RABBITMQ_URL set)\n"
          "it only publishes tasks and `errand worker` processes run them.  Prints\n"
          "\"errand: serving on URL\" when ready; SIGTERM or SIGINT stop it cleanly.\n"
          "The web interface is at / (build it with `make web`; server.web_root).\n"
          "Settings: the [server] and [oauth] sections of errand.conf(5).",
      .no_args = true },
    { .name = "user",
      .usage = "add NAME [--role ROLE] | list [--json] | token NAME [--label TEXT] |\n"
               "       revoke TOKEN_ID|SESSION_ID | revoke --all NAME | sessions NAME [--json] |\n"
               "       role NAME ROLE | delete NAME",
      .summary = "Manage the users of the server, their API tokens and sessions",
      .opts = user_opts,
      .run = cmd_user,
      .help = "An API token is shown once, when issued; only its SHA-256 digest is stored.\n"
              "Clients send it as Authorization: Bearer TOKEN, or exchange it for short-lived\n"
              "access tokens at POST /api/v1/auth/token, which starts a session.  Revoking a\n"
              "token revokes the sessions started with it; running servers notice within a\n"
              "second: its access tokens stop working and its WebSockets are closed.  A new\n"
              "role or a deleted user takes effect the same way." },
    { .name = "auth",
      .usage = "gmail [NAME] [--no-browser] [--scopes LIST] [--timeout SECONDS] |\n"
               "       list [--json] | revoke NAME",
      .summary = "Authorise errand with Gmail; list and revoke what it holds",
      .opts = auth_opts,
      .run = cmd_auth,
      .help = "gmail: OAuth 2.0 with PKCE.  errand listens on 127.0.0.1 at a random port,\n"
              "prints Google's consent URL (and opens $BROWSER unless --no-browser), waits for\n"
              "the redirect, checks its state, exchanges the code and stores the tokens under\n"
              "NAME (default gmail), encrypted with the secret key (ERRAND_SECRET_KEY, else\n"
              "$XDG_DATA_HOME/errand/secret.key, made 0600 on first use).  Needs gmail.client_id\n"
              "and gmail.client_secret (errand.conf(5)).  Access tokens are refreshed as\n"
              "needed; when Google answers invalid_grant, run errand auth gmail NAME again.\n"
              "revoke tells Google to revoke the token and deletes it here." },
    { .name = "completion",
      .usage = "bash|zsh|fish",
      .summary = "Print a shell completion script (commands, options, agent names)",
      .opts = no_opts,
      .run = cmd_completion,
      .help = "bash: source <(errand completion bash), or save it as\n"
              "/usr/share/bash-completion/completions/errand.  zsh: save it as _errand in a\n"
              "directory of $fpath (or source it after compinit).  fish: save it as\n"
              "~/.config/fish/completions/errand.fish.  make install installs all three." },
    { .name = "setup",
      .usage = "[--non-interactive] [--llm PROVIDER] [--base-url URL] [--model NAME]\n"
               "       [--api-key-file FILE | --key-from-env] [--workspace DIR] [--force]",
      .summary = "Write a first config file: provider, endpoint, model, key, workspace",
      .opts = setup_opts,
      .run = cmd_setup,
      .help = "Asks for each setting (Enter takes the default shown; the key is not echoed)\n"
              "and writes a commented config file, mode 0600, at --config FILE or\n"
              "$XDG_CONFIG_HOME/errand/config (errand.conf(5)).  --llm, --model and --workspace\n"
              "answer their question beforehand.  An existing file is replaced only when you\n"
              "say so, or with --force; the old one is kept as FILE.bak.  With\n"
              "--non-interactive nothing is asked: the options and the defaults are written\n"
              "(the key left to the environment unless --api-key-file).  The file is read\n"
              "back as every command reads it; errand doctor then checks the provider.",
      .no_args = true },
    { .name = "repl",
      .usage = "",
      .summary = "Start the line-oriented REPL (same as errand --plain)",
      .opts = no_opts,
      .run = cmd_repl,
      .no_args = true },
    { .name = "help",
      .usage = "[COMMAND]",
      .summary = "Show help for errand or a command",
      .opts = no_opts,
      .run = cmd_help },
    { .name = "version",
      .usage = "",
      .summary = "Print the version",
      .opts = no_opts,
      .run = cmd_version,
      .no_args = true },
    { .name = NULL },
};

static const cli_cmd *find_cmd(const char *name)
{
    for (size_t i = 0; cli_commands[i].name; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    const char *best = NULL;
    size_t bd = 3; /* at most two edits away */
    for (size_t i = 0; cli_commands[i].name; i++) {
        size_t dd = cli_distance(name, cli_commands[i].name);
        if (dd < bd && dd < strlen(cli_commands[i].name)) {
            bd = dd;
            best = cli_commands[i].name;
        }
    }
    if (best)
        return cli_usage_error(NULL, "no command '%s'; did you mean '%s'?", name, best);
    return cli_usage_error(NULL,
                           "no command '%s' (a request goes after ask, or quoted: "
                           "errand ask \"%s ...\", errand \"%s ...\")",
                           name, name, name);
}

static void print_opts(const cli_opt *opts)
{
    for (size_t i = 0; opts[i].name; i++) {
        /* Long names line up whether or not there is a short one (GNU style). */
        char left[64], shrt[8] = "    ";
        if (opts[i].short_name)
            snprintf(shrt, sizeof shrt, "-%c, ", opts[i].short_name);
        snprintf(left, sizeof left, "%s--%s%s%s", shrt, opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        printf("  %-26s %s\n", left, opts[i].help);
    }
}

void cli_print_main_help(void)
{
    printf("Usage: errand [OPTIONS] [COMMAND] [ARGS]\n\n"
           "errand is a terminal AI assistant: a supervisor routes each request to an agent\n"
           "(");
    for (size_t i = 0; er_agents[i]; i++)
        printf("%s%s", i ? ", " : "", er_agents[i]->name);
    printf(").  Without a command it starts the\ninteractive session.\n\nCommands:\n");
    for (size_t i = 0; cli_commands[i].name; i++)
        printf("  %-11s %s\n", cli_commands[i].name, cli_commands[i].summary);
    printf("\nOptions:\n");
    print_opts(cli_global_opts);
    printf("\nSettings come from flags, then the environment, then the config file, then\n"
           "defaults; see errand(1) and errand.conf(5).\n");
}

void cli_print_help(const cli_cmd *cmd)
{
    printf("Usage: errand %s%s%s\n\n%s.\n", cmd->name, *cmd->usage ? " " : "", cmd->usage,
           cmd->summary);
    if (cmd->help)
        printf("\n%s\n", cmd->help);
    if (cmd->help_more)
        cmd->help_more();
    if (cmd->opts[0].name) {
        printf("\nOptions:\n");
        print_opts(cmd->opts);
    }
    printf("\nGlobal options (errand --help) are accepted too.\n");
}

int cmd_help(cli *c, cli_args *a)
{
    (void)c;
    if (a->npos > 1)
        return cli_usage_error("help", "help takes one command, got '%s' too", a->pos[1]);
    if (a->npos > 0) {
        const cli_cmd *cmd = find_cmd(a->pos[0]);
        if (!cmd)
            return unknown_command(a->pos[0]);
        cli_print_help(cmd);
        return EXIT_DONE;
    }
    cli_print_main_help();
    return EXIT_DONE;
}

int cmd_version(cli *c, cli_args *a)
{
    (void)c;
    (void)a;
    printf("errand %s\n", ER_VERSION);
    return EXIT_DONE;
}

int cli_exit_for(int code)
{
    switch (code) {
    case 0: return EXIT_DONE;
    case ER_EINVAL: return EXIT_USAGE;
    case ER_EUNAVAIL:
    case ER_ETIMEDOUT:
    case ER_EAUTH:
    case ER_EIO: return EXIT_UNAVAIL;
    default: return EXIT_FAILED;
    }
}

int cli_fail(const er_error *err)
{
    fprintf(stderr, "errand: %s\n", err->msg[0] ? err->msg : er_error_name(err->code));
    return cli_exit_for(err->code);
}

/* The workspace must name a directory; it is made absolute so that every
 * thread and worker of this process sees the same root.  Whichever way it was
 * set (--workspace, ERRAND_WORKSPACE, the file, -o): a wrong one is a usage
 * error now, not a tool error in every answer later.  what names the source
 * for the message. */
static int set_workspace(er_config *cfg, const char *dir, const char *what, er_error *err)
{
    char *real = realpath(dir, NULL);
    struct stat st;
    int rc;
    if (!real)
        rc = er_error_set(err, ER_EINVAL, "%s '%s': %s; give an existing directory", what, dir,
                          strerror(errno));
    else if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = er_error_set(err, ER_EINVAL, "%s '%s' is not a directory", what, dir);
    else
        rc = er_config_set(cfg, "agent.workspace", real, err); /* frees dir when it is cfg's */
    free(real);
    return rc;
}

/* A password in a URL given on the command line is overwritten where it
 * lies in argv once copied: /proc/PID/cmdline (ps) then shows '*'s. */
static void scrub_password(const char *value)
{
    const char *p = strstr(value, "://");
    size_t ul, pl;
    if (p && er_url_password_at(p + 3, &ul, &pl))
        memset((char *)p + 3 + ul + 1, '*', pl);
}

/* -o KEY=VALUE: a secret (a key, a token, a signing secret) is refused, as
 * every user of the machine reads command lines in ps; URL settings are
 * taken and their password scrubbed. */
static int set_option(er_config *cfg, const char *kv, er_error *err)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return er_error_set(err, ER_EINVAL, "--set needs KEY=VALUE, got '%s'", kv);
    char key[96];
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    const er_config_key *k = er_config_find(key);
    if (k && k->secret && !er_config_key_is_url(k))
        return er_error_set(err, ER_EINVAL,
                            "-o %s.%s: a secret on the command line is visible to every user "
                            "(ps); set %s in the environment or put it in the config file",
                            k->section, k->key, k->env ? k->env : "it");
    int rc = er_config_set(cfg, key, eq + 1, err);
    if (!rc && k && er_config_key_is_url(k))
        scrub_password(eq + 1);
    return rc;
}

static int apply_flags(er_config *cfg, const cli_args *g, er_error *err)
{
    static const struct {
        const char *flag, *key;
    } map[] = {
        { "database", "store.database_url" },
        { "llm", "llm.provider" },
        { "model", "llm.model" },
        { "log-level", "log.level" },
        { "record", "llm.record" },
        { "replay", "llm.replay" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(map); i++) {
        const char *v = cli_value(g, map[i].flag);
        if (v && er_config_set(cfg, map[i].key, v, err))
            return err->code;
        if (v && er_config_key_is_url(er_config_find(map[i].key)))
            scrub_password(v); /* --database postgresql://user:password@… */
    }
    const char *ws = cli_value(g, "workspace");
    if (ws && set_workspace(cfg, ws, "--workspace", err))
        return err->code;
    for (size_t i = 0; i < g->nopts; i++) {
        if (strcmp(g->opts[i]->name, "set") != 0)
            continue;
        if (set_option(cfg, g->values[i], err))
            return err->code;
    }
    if (!ws && set_workspace(cfg, cfg->workspace, "agent.workspace", err))
        return err->code;
    return 0;
}

int cli_env(cli *c, er_error *err)
{
    if (c->env)
        return 0;
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    int rc = er_config_load(cfg, cli_value(&c->global, "config"), err);
    if (!rc && (rc = apply_flags(cfg, &c->global, err)) != 0)
        er_config_release(cfg); /* er_config_load released what it had itself */
    if (rc) {
        free(cfg);
        /* An unknown setting or a config file that cannot be read is the
         * user's to fix, like a bad value: a usage error (errand(1)). */
        err->code = ER_EINVAL;
        return ER_EINVAL;
    }
    er_log_level lvl;
    if (er_log_parse_level(cfg->log_level, &lvl) == 0)
        er_log_set_level(lvl);
    er_log_set_trace(getenv("ERRAND_TRACE"));
    if (cfg->log_file && er_log_set_file(cfg->log_file))
        fprintf(stderr, "errand: cannot open log file '%s'; logging to stderr\n", cfg->log_file);
    /* The tools' HTTP goes into (or comes from) the same cassette as the
     * LLM's exchanges (http_tape.h); set before any thread starts. */
    bool replay = !er_str_empty(cfg->llm_replay);
    if (replay || !er_str_empty(cfg->llm_record)) {
        if (replay && !er_str_empty(cfg->llm_record)) {
            er_config_release(cfg);
            free(cfg);
            return er_error_set(err, ER_EINVAL,
                                "--record and --replay do not go together (llm.record, "
                                "llm.replay)");
        }
        if ((rc = er_http_tape_start(replay ? cfg->llm_replay : cfg->llm_record, replay, err))) {
            er_config_release(cfg);
            free(cfg);
            return rc;
        }
    }
    return er_env_new(&c->env, cfg, err);
}

/* Without a command: the full-screen interface on a capable terminal, else the REPL. */
static const cli_cmd *interactive_cmd(const cli_args *global)
{
    static const cli_cmd tui = { .name = "tui",
                                 .usage = "",
                                 .summary = "Start the full-screen interface",
                                 .opts = no_opts,
                                 .run = cmd_tui,
                                 .no_args = true };
    const char *term = getenv("TERM");
    if (cli_flag(global, "plain") || !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || !term ||
        !*term || strcmp(term, "dumb") == 0)
        return find_cmd("repl");
    return &tui;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    cli c = { 0 };
    int used = 0;
    int rc = cli_parse(&c.global, NULL, cli_global_opts, NULL, argc - 1, argv + 1, true, &used);
    if (rc)
        return rc;
    if (cli_flag(&c.global, "version"))
        return cmd_version(&c, NULL);
    char **rest = argv + 1 + used;
    int nrest = argc - 1 - used;
    if (nrest == 0 && cli_flag(&c.global, "help")) {
        cli_print_main_help();
        return EXIT_DONE;
    }
    const cli_cmd *cmd = nrest ? find_cmd(rest[0]) : interactive_cmd(&c.global);
    /* errand "why does it fail?": a quoted sentence is a request, short for
     * ask (a single unknown word is more likely a mistyped command). */
    bool shorthand = !cmd && nrest && strchr(rest[0], ' ');
    if (shorthand)
        cmd = find_cmd("ask");
    if (!cmd)
        return unknown_command(rest[0]);
    c.cmd = cmd;
    cli_args a = { 0 };
    if (shorthand) {
        rc = cli_parse(&a, cmd->name, cmd->opts, cli_global_opts, nrest, rest, false, NULL);
        if (rc)
            return rc;
    } else if (nrest) {
        rc = cli_parse(&a, cmd->name, cmd->opts, cli_global_opts, nrest - 1, rest + 1, false, NULL);
        if (rc)
            return rc;
    }
    /* Global options after the command name count too. */
    for (size_t i = 0; i < a.nopts; i++) {
        for (size_t j = 0; cli_global_opts[j].name; j++) {
            if (a.opts[i] == &cli_global_opts[j] && c.global.nopts < CLI_MAX_OPTS) {
                c.global.opts[c.global.nopts] = a.opts[i];
                c.global.values[c.global.nopts++] = a.values[i];
            }
        }
    }
    if (cli_flag(&a, "help") || (nrest && cli_flag(&c.global, "help"))) {
        cli_print_help(cmd);
        return EXIT_DONE;
    }
    if (cmd->no_args && a.npos > 0)
        return cli_usage_error(cmd->name, "%s takes no arguments, got '%s'", cmd->name, a.pos[0]);
    rc = cmd->run(&c, &a);
    er_env_close(c.env);
    return rc;
}
