/* config.c — settings from defaults, the INI file, the environment and flags.
 *
 * er_config_keys is the single table of settings; everything that lists,
 * loads, masks or documents settings walks it. */
#include "errand/config.h"
#include "errand/price.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/log.h"
#include "errand/mcp.h"
#include "errand/str.h"
#include "errand/url.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define OFF(f)          offsetof(er_config, f)
#define CONFIG_LINE_MAX 4096
#define POL(i)          (OFF(policy) + (i) * sizeof(er_policy))

const er_config_key er_config_keys[] = {
    { "store", "database_url", "DATABASE_URL", ER_CFG_STR, OFF(database_url), true, NULL,
      "Store URL: sqlite:///path/errand.db (default: $XDG_DATA_HOME/errand/errand.db) or "
      "postgresql://user:pass@host:port/db" },
    { "bus", "rabbitmq_url", "RABBITMQ_URL", ER_CFG_STR, OFF(rabbitmq_url), true, NULL,
      "Message bus URL: amqp://user:pass@host:port/vhost; unset: in-process queues" },
    { "bus", "queue_type", "ERRAND_BUS_QUEUE_TYPE", ER_CFG_STR, OFF(bus_queue_type), false,
      "classic",
      "Type of the RabbitMQ queues errand declares: classic or quorum (replicated, for a "
      "cluster)" },
    { "cache", "redis_url", "REDIS_URL", ER_CFG_STR, OFF(redis_url), true, NULL,
      "Cache and pub/sub URL: redis://[:pass@]host:port/db; unset: in-process" },
    { "llm", "provider", "ERRAND_LLM", ER_CFG_STR, OFF(llm), false, NULL,
      "LLM provider: openai, anthropic or offline (default: the provider whose API key is set, "
      "else offline)" },
    { "llm", "model", "ERRAND_MODEL", ER_CFG_STR, OFF(model), false, NULL,
      "Model name (default: gpt-4o-mini for openai, claude-sonnet-4-5 for anthropic)" },
    { "llm", "openai_api_key", "OPENAI_API_KEY", ER_CFG_STR, OFF(openai_api_key), true, NULL,
      "API key for the OpenAI-compatible endpoint" },
    { "llm", "openai_base_url", "OPENAI_BASE_URL", ER_CFG_STR, OFF(openai_base_url), false,
      "https://api.openai.com/v1",
      "OpenAI-compatible base URL (Ollama: http://127.0.0.1:11434/v1, vLLM, llama.cpp server)" },
    { "llm", "anthropic_api_key", "ANTHROPIC_API_KEY", ER_CFG_STR, OFF(anthropic_api_key), true,
      NULL, "API key for Anthropic" },
    { "llm", "anthropic_base_url", "ANTHROPIC_BASE_URL", ER_CFG_STR, OFF(anthropic_base_url), false,
      "https://api.anthropic.com", "Anthropic API base URL" },
    { "llm", "timeout", "ERRAND_LLM_TIMEOUT", ER_CFG_LONG, OFF(llm_timeout), false, "120",
      "Seconds one LLM request may take" },
    { "llm", "prices", "ERRAND_LLM_PRICES", ER_CFG_STR, OFF(llm_prices), false, NULL,
      "Price table: MODEL=INPUT/OUTPUT, comma-separated, US dollars per million tokens; "
      "MODEL may end in * (default: none)" },
    { "llm", "record", "ERRAND_LLM_RECORD", ER_CFG_STR, OFF(llm_record), false, NULL,
      "Cassette file every LLM request and answer, and every HTTP exchange of the tools, is "
      "appended to (--record)" },
    { "llm", "replay", "ERRAND_LLM_REPLAY", ER_CFG_STR, OFF(llm_replay), false, NULL,
      "Cassette file the LLM answers and the tools' HTTP answers come from instead of a "
      "provider and the network: no network, no key (--replay)" },
    { "llm", "retries", "ERRAND_LLM_RETRIES", ER_CFG_LONG, OFF(llm_retries), false, "3",
      "Retries on 429 and 5xx answers, with exponential backoff and jitter" },
    { "llm", "context_window", "ERRAND_LLM_CONTEXT_WINDOW", ER_CFG_LONG, OFF(llm_context_window),
      false, "0",
      "Tokens the model reads at most (0: known for common models, else 8192); a conversation "
      "past llm.compact_at percent of it has its older turns compacted into a summary" },
    { "llm", "compact_at", "ERRAND_LLM_COMPACT_AT", ER_CFG_LONG, OFF(llm_compact_at), false, "80",
      "Percent of the context window a request may fill before older turns are compacted "
      "(10-95)" },
    { "search", "provider", "ERRAND_SEARCH_PROVIDER", ER_CFG_STR, OFF(search_provider), false, NULL,
      "Web search provider: searxng, brave or tavily (default: searxng when search.url is set, "
      "else the one whose API key is set)" },
    { "search", "url", "ERRAND_SEARCH_URL", ER_CFG_STR, OFF(search_url), false, NULL,
      "Search provider base URL: a SearXNG instance (required for searxng; JSON output enabled), "
      "or another endpoint for brave/tavily (default: their public API)" },
    { "search", "brave_api_key", "BRAVE_API_KEY", ER_CFG_STR, OFF(brave_api_key), true, NULL,
      "Brave Search API subscription token" },
    { "search", "tavily_api_key", "TAVILY_API_KEY", ER_CFG_STR, OFF(tavily_api_key), true, NULL,
      "Tavily API key" },
    { "search", "count", "ERRAND_SEARCH_COUNT", ER_CFG_LONG, OFF(search_count), false, "10",
      "Results a web search returns unless the call asks for another number (1-20)" },
    { "web", "allow_hosts", "ERRAND_WEB_ALLOW_HOSTS", ER_CFG_STR, OFF(web_allow_hosts), false, NULL,
      "Hosts, addresses or CIDR blocks (comma-separated) the web tools may fetch from although "
      "they are loopback, private or link-local (default: none)" },
    { "web", "cache_ttl", "ERRAND_WEB_CACHE_TTL", ER_CFG_LONG, OFF(web_cache_ttl), false, "3600",
      "Seconds fetched pages and search results stay cached (0: not cached)" },
    { "web", "max_bytes", "ERRAND_WEB_MAX_BYTES", ER_CFG_LONG, OFF(web_max_bytes), false, "5242880",
      "Bytes of a page (decoded) read at most; the rest is cut" },
    { "web", "timeout", "ERRAND_WEB_TIMEOUT", ER_CFG_LONG, OFF(web_timeout), false, "20",
      "Seconds one page fetch may take" },
    { "web", "max_redirects", "ERRAND_WEB_MAX_REDIRECTS", ER_CFG_LONG, OFF(web_max_redirects),
      false, "5", "Redirects a page fetch follows, each one checked again" },
    { "web", "delay_ms", "ERRAND_WEB_DELAY_MS", ER_CFG_LONG, OFF(web_delay_ms), false, "1000",
      "Politeness: least milliseconds between two fetches from one host" },
    { "memory", "embedding_model", "ERRAND_MEMORY_EMBEDDING_MODEL", ER_CFG_STR,
      OFF(memory_embedding_model), false, NULL,
      "Embedding model asked at the OpenAI-compatible provider's /embeddings (default: none, "
      "offline hashed n-grams)" },
    { "memory", "exact_max", "ERRAND_MEMORY_EXACT_MAX", ER_CFG_LONG, OFF(memory_exact_max), false,
      "20000", "Vectors a memory search scans exactly; above that it uses the HNSW index" },
    { "memory", "quantize", "ERRAND_MEMORY_QUANTIZE", ER_CFG_STR, OFF(memory_quantize), false,
      "float32",
      "Vectors of the HNSW index in memory: float32, or int8 (a quarter of the memory; the "
      "candidates are scored again with the stored float32 vectors)" },
    { "browser", "engine", "ERRAND_BROWSER_ENGINE", ER_CFG_STR, OFF(browser_engine), false,
      "chromium",
      "Browser the browser tools drive: chromium (Debian's Chromium over the DevTools "
      "Protocol), firefox (Firefox ESR over WebDriver BiDi) or webkit (WebKitGTK over "
      "classic WebDriver, behind errand's guarding proxy)" },
    { "browser", "binary", "ERRAND_BROWSER_BINARY", ER_CFG_STR, OFF(browser_binary), false, NULL,
      "Path of the browser program (default: the engine's Debian path, "
      "/usr/lib/chromium/chromium)" },
    { "browser", "headless", "ERRAND_BROWSER_HEADLESS", ER_CFG_STR, OFF(browser_headless), false,
      "true", "false shows the browser window (needs a display)" },
    { "browser", "max_instances", "ERRAND_BROWSER_MAX_INSTANCES", ER_CFG_LONG,
      OFF(browser_max_instances), false, "2",
      "Browsers running at once in one process (one per session)" },
    { "browser", "recycle_after", "ERRAND_BROWSER_RECYCLE_AFTER", ER_CFG_LONG,
      OFF(browser_recycle_after), false, "500",
      "Commands a browser serves before it is replaced by a new one" },
    { "browser", "page_timeout", "ERRAND_BROWSER_PAGE_TIMEOUT", ER_CFG_LONG,
      OFF(browser_page_timeout), false, "30", "Seconds a page may take to load" },
    { "browser", "command_timeout", "ERRAND_BROWSER_COMMAND_TIMEOUT", ER_CFG_LONG,
      OFF(browser_command_timeout), false, "10", "Seconds any other browser command may take" },
    { "browser", "memory_max", "ERRAND_BROWSER_MEMORY_MAX", ER_CFG_LONG, OFF(browser_memory_max),
      false, "2048",
      "MiB of memory one browser may use, all its processes together (a control group where "
      "one can be made, else per process); 0: no limit" },
    { "browser", "max_processes", "ERRAND_BROWSER_MAX_PROCESSES", ER_CFG_LONG,
      OFF(browser_max_processes), false, "1024",
      "Processes and threads one browser may run (a control group); 0: no limit" },
    { "user", "name", "ERRAND_USER", ER_CFG_STR, OFF(user), false, NULL,
      "Local user name (default: $USER, else \"local\")" },
    { "agent", "workspace", "ERRAND_WORKSPACE", ER_CFG_STR, OFF(workspace), false, NULL,
      "Root directory of the file tools (default: the current directory)" },
    { "agent", "grep_threads", "ERRAND_GREP_THREADS", ER_CFG_LONG, OFF(grep_threads), false, "0",
      "Threads the grep tool searches files with, the calling one included (0: one per core; "
      "1: no other thread); the result is the same whatever the number" },
    { "sandbox", "fallback", "ERRAND_SANDBOX_FALLBACK", ER_CFG_STR, OFF(sandbox_fallback), false,
      NULL,
      "Where bubblewrap does not work: limits (run commands with resource limits only, seeing the "
      "whole filesystem and the network) or refuse; default: limits for local tasks, refuse for "
      "tasks from errand serve" },
    { "sandbox", "env", "ERRAND_SANDBOX_ENV", ER_CFG_STR, OFF(sandbox_env), false, NULL,
      "Variables passed to commands besides PATH, HOME, LANG, LC_*, TERM and TZ: comma-separated "
      "names, NAME* for a prefix (errand's own secrets never are)" },
    { "sandbox", "expose", "ERRAND_SANDBOX_EXPOSE", ER_CFG_STR, OFF(sandbox_expose), false, NULL,
      "More paths commands see, read-only, besides /usr, /bin, /lib* and a minimal /etc: "
      "comma-separated absolute paths (a toolchain in /opt)" },
    { "sandbox", "memory_mb", "ERRAND_SANDBOX_MEMORY_MB", ER_CFG_LONG, OFF(sandbox_memory_mb),
      false, "2048",
      "Memory of one command and all its processes together, in MiB (a cgroup, where the machine "
      "allows one)" },
    { "sandbox", "pids", "ERRAND_SANDBOX_PIDS", ER_CFG_LONG, OFF(sandbox_pids), false, "1024",
      "Processes and threads one command may have at once (a cgroup, where the machine allows "
      "one)" },
    { "sandbox", "tmp_mb", "ERRAND_SANDBOX_TMP_MB", ER_CFG_LONG, OFF(sandbox_tmp_mb), false, "512",
      "Size of a command's private /tmp (which holds its HOME) and of its /dev/shm, in MiB" },
    { "sandbox", "undo_mb", "ERRAND_SANDBOX_UNDO_MB", ER_CFG_LONG, OFF(sandbox_undo_mb), false,
      "64",
      "How much of the workspace's content, in MiB, is kept in memory before a run so that errand "
      "undo can restore what the command changes (0: run is not checkpointed)" },
    { "data", "db", "ERRAND_DATA_DB", ER_CFG_STR, OFF(data_db), false, NULL,
      "The data agent's SQLite database (default: WORKSPACE/.errand/data.sqlite; a relative path "
      "is taken from the workspace)" },
    { "agent", "max_steps", "ERRAND_MAX_STEPS", ER_CFG_LONG, OFF(max_steps), false, "25",
      "Step budget of one task (LLM calls)" },
    { "agent", "max_tokens", "ERRAND_MAX_TOKENS", ER_CFG_LONG, OFF(max_tokens), false, "200000",
      "Token budget of one task (input + output)" },
    { "agent", "max_cost", "ERRAND_MAX_COST", ER_CFG_STR, OFF(max_cost), false, NULL,
      "Money budget of one task in US dollars, priced with llm.prices (default: none)" },
    { "agent", "max_daily_cost", "ERRAND_MAX_DAILY_COST", ER_CFG_STR, OFF(max_daily_cost), false,
      NULL, "Money budget of one user's tasks per UTC day in US dollars (default: none)" },
    { "agent", "max_daily_tokens", "ERRAND_MAX_DAILY_TOKENS", ER_CFG_LONG, OFF(max_daily_tokens),
      false, "0", "Token budget of one user's tasks per UTC day, input + output (0: none)" },
    { "agent", "max_daily_seconds", "ERRAND_MAX_DAILY_SECONDS", ER_CFG_LONG, OFF(max_daily_seconds),
      false, "0",
      "Time budget of one user's tasks per UTC day: seconds their runs worked, up to each LLM "
      "request (0: none)" },
    { "agent", "max_seconds", "ERRAND_MAX_SECONDS", ER_CFG_LONG, OFF(max_seconds), false, "600",
      "Wall-clock budget of one task, in seconds" },
    { "agent", "deadline_margin", "ERRAND_DEADLINE_MARGIN", ER_CFG_LONG, OFF(deadline_margin),
      false, "60", "Seconds past max_seconds after which a task no worker finished is failed" },
    { "agent", "approval_timeout", "ERRAND_APPROVAL_TIMEOUT", ER_CFG_LONG, OFF(approval_timeout),
      false, "300", "Seconds to wait for an answer to an approval request before denying" },
    { "policy", "read", "ERRAND_POLICY_READ", ER_CFG_POLICY, POL(ER_PERM_READ), false, "allow",
      "Policy for tools that only read: ask, allow or deny" },
    { "policy", "write", "ERRAND_POLICY_WRITE", ER_CFG_POLICY, POL(ER_PERM_WRITE), false, "ask",
      "Policy for tools that write files or data" },
    { "policy", "exec", "ERRAND_POLICY_EXEC", ER_CFG_POLICY, POL(ER_PERM_EXEC), false, "ask",
      "Policy for tools that run programs" },
    { "policy", "network", "ERRAND_POLICY_NETWORK", ER_CFG_POLICY, POL(ER_PERM_NETWORK), false,
      "allow",
      "Policy for the web tools (web_search, fetch_url, cite_check), which fetch from the "
      "network" },
    { "policy", "exec_network", "ERRAND_POLICY_EXEC_NETWORK", ER_CFG_POLICY,
      POL(ER_PERM_EXEC_NETWORK), false, "deny",
      "Whether programs started by run and test get the network inside their sandbox (ask: only "
      "with --yes)" },
    { "policy", "send", "ERRAND_POLICY_SEND", ER_CFG_POLICY, POL(ER_PERM_SEND), false, "ask",
      "Policy for tools that send messages or submit forms" },
    { "log", "level", "ERRAND_LOG", ER_CFG_STR, OFF(log_level), false, "warn",
      "Log level: debug, info, warn, error, off" },
    { "log", "file", "ERRAND_LOG_FILE", ER_CFG_STR, OFF(log_file), false, NULL,
      "Log file (default: stderr for commands, $XDG_STATE_HOME/errand/errand.log for the TUI)" },
    { "audit", "path", "ERRAND_AUDIT_PATH", ER_CFG_STR, OFF(audit_path), false, NULL,
      "The hash-chained audit log of side-effecting tool calls (default: "
      "$XDG_DATA_HOME/errand/audit.jsonl)" },
    { "server", "listen", "ERRAND_LISTEN", ER_CFG_STR, OFF(listen), false, "127.0.0.1:8080",
      "Address errand serve listens on: HOST:PORT (port 0 picks a free one)" },
    { "server", "public_url", "ERRAND_PUBLIC_URL", ER_CFG_STR, OFF(public_url), false, NULL,
      "Base URL clients reach the server at (OpenID Connect redirect, same-origin check); default "
      "http://LISTEN" },
    { "server", "web_root", "ERRAND_WEB_ROOT", ER_CFG_STR, OFF(web_root), false, NULL,
      "Directory of the web interface's built files, served at / (default: share/errand/web of the "
      "installation)" },
    { "server", "threads", "ERRAND_SERVER_THREADS", ER_CFG_LONG, OFF(server_threads), false, "0",
      "HTTP event threads, each serving many connections (0: one per CPU)" },
    { "server", "workers", "ERRAND_SERVER_WORKERS", ER_CFG_LONG, OFF(server_workers), false, "2",
      "Local mode: messages the in-process workers handle at once (0: none, tasks stay queued)" },
    { "server", "max_tasks_per_user", "ERRAND_MAX_TASKS_PER_USER", ER_CFG_LONG,
      OFF(max_tasks_per_user), false, "20",
      "Tasks one user of errand serve may have not ended at once (queued, running or waiting for "
      "an approval); more are refused with 429 (0: no cap)" },
    { "server", "workspaces", "ERRAND_WORKSPACES", ER_CFG_STR, OFF(workspaces), false, NULL,
      "Directory of the users' own workspaces: each user of errand serve works in ROOT/USER-ID, "
      "made on first use, mode 0700 (default: $XDG_DATA_HOME/errand-workspaces)" },
    { "server", "admin_approval", "ERRAND_ADMIN_APPROVAL", ER_CFG_STR, OFF(admin_approval), false,
      NULL,
      "Permission classes (comma-separated: write, exec, network, send) whose approval requests, "
      "in tasks of users who are not admins, only an admin may answer (default: none; the "
      "requester answers)" },
    { "server", "jwt_secret", "ERRAND_JWT_SECRET", ER_CFG_STR, OFF(jwt_secret), true, NULL,
      "Key signing access tokens (HS256, 32+ characters); default: generated once in "
      "$XDG_DATA_HOME/errand/jwt.secret" },
    { "server", "access_ttl", "ERRAND_ACCESS_TTL", ER_CFG_LONG, OFF(access_ttl), false, "900",
      "Seconds an access token (JWT) is valid" },
    { "server", "refresh_ttl", "ERRAND_REFRESH_TTL", ER_CFG_LONG, OFF(refresh_ttl), false,
      "2592000", "Seconds a refresh token is valid" },
    { "server", "cors_origins", "ERRAND_CORS_ORIGINS", ER_CFG_STR, OFF(cors_origins), false, NULL,
      "Comma-separated origins allowed for CORS and WebSocket connections (default: none)" },
    { "server", "rate_limit", "ERRAND_RATE_LIMIT", ER_CFG_LONG, OFF(rate_limit), false, "120",
      "Requests per user and endpoint per window (0: no limit)" },
    { "server", "rate_window", "ERRAND_RATE_WINDOW", ER_CFG_LONG, OFF(rate_window), false, "60",
      "Rate limit window, in seconds" },
    { "server", "max_body", "ERRAND_MAX_BODY", ER_CFG_LONG, OFF(max_body), false, "1048576",
      "Largest request body accepted, in bytes (larger: 413)" },
    { "server", "timeout_ms", "ERRAND_SERVER_TIMEOUT_MS", ER_CFG_LONG, OFF(timeout_ms), false,
      "10000",
      "Milliseconds of silence after which a connection is closed (rounded up to seconds)" },
    { "server", "max_connections", "ERRAND_MAX_CONNECTIONS", ER_CFG_LONG, OFF(max_connections),
      false, "1024",
      "Connections open at once; near it, a new one closes the oldest that has "
      "not sent its request headers yet" },
    { "server", "max_connections_per_ip", "ERRAND_MAX_CONNECTIONS_PER_IP", ER_CFG_LONG,
      OFF(max_connections_per_ip), false, "64",
      "Connections open at once from one client address (0: no limit; behind a reverse proxy)" },
    { "server", "header_timeout_ms", "ERRAND_HEADER_TIMEOUT_MS", ER_CFG_LONG,
      OFF(header_timeout_ms), false, "10000",
      "Milliseconds a client has to send a request's headers, however it trickles them" },
    { "server", "metrics_token", "ERRAND_METRICS_TOKEN", ER_CFG_STR, OFF(metrics_token), true, NULL,
      "Bearer token /metrics requires (default: /metrics is open)" },
    { "oauth", "issuer", "OAUTH_ISSUER_URL", ER_CFG_STR, OFF(oauth_issuer), false, NULL,
      "OpenID Connect issuer URL (its /.well-known/openid-configuration is read); unset: no "
      "login" },
    { "oauth", "client_id", "OAUTH_CLIENT_ID", ER_CFG_STR, OFF(oauth_client_id), false, NULL,
      "OAuth 2.0 client id registered with the provider" },
    { "oauth", "client_secret", "OAUTH_CLIENT_SECRET", ER_CFG_STR, OFF(oauth_client_secret), true,
      NULL, "OAuth 2.0 client secret" },
    { "oauth", "scopes", "OAUTH_SCOPES", ER_CFG_STR, OFF(oauth_scopes), false,
      "openid profile email", "Scopes asked for at login" },
    { "gmail", "client_id", "ERRAND_GMAIL_CLIENT_ID", ER_CFG_STR, OFF(gmail_client_id), false, NULL,
      "OAuth 2.0 client id (a Desktop app client of Google Cloud) for `errand auth gmail`" },
    { "gmail", "client_secret", "ERRAND_GMAIL_CLIENT_SECRET", ER_CFG_STR, OFF(gmail_client_secret),
      true, NULL, "The client's secret (Google issues one to Desktop app clients too)" },
    { "gmail", "auth_url", "ERRAND_GMAIL_AUTH_URL", ER_CFG_STR, OFF(gmail_auth_url), false,
      "https://accounts.google.com/o/oauth2/v2/auth", "Google's authorization endpoint" },
    { "gmail", "token_url", "ERRAND_GMAIL_TOKEN_URL", ER_CFG_STR, OFF(gmail_token_url), false,
      "https://oauth2.googleapis.com/token", "Google's token endpoint" },
    { "gmail", "revoke_url", "ERRAND_GMAIL_REVOKE_URL", ER_CFG_STR, OFF(gmail_revoke_url), false,
      "https://oauth2.googleapis.com/revoke", "Google's token revocation endpoint" },
    { "gmail", "api_url", "ERRAND_GMAIL_API_URL", ER_CFG_STR, OFF(gmail_api_url), false,
      "https://gmail.googleapis.com", "Base URL of the Gmail REST API" },
    { "mail", "account", "ERRAND_MAIL_ACCOUNT", ER_CFG_STR, OFF(mail_account), false, NULL,
      "Mail account used when a tool names none (default: the first [mail.NAME] section)" },
};
const size_t er_config_nkeys = ER_ARRAY_LEN(er_config_keys);

static const char *const policy_names[] = { "ask", "allow", "deny" };
static const char *const perm_names[] = {
    "read", "write", "exec", "network", "send", "exec_network"
};

const char *er_policy_name(er_policy p)
{
    return (unsigned)p < ER_ARRAY_LEN(policy_names) ? policy_names[p] : "?";
}

const char *er_perm_name(er_perm p)
{
    return (unsigned)p < ER_ARRAY_LEN(perm_names) ? perm_names[p] : "?";
}

int er_perm_parse(const char *name, er_perm *out)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(perm_names); i++) {
        if (name && strcasecmp(name, perm_names[i]) == 0) {
            *out = (er_perm)i;
            return 0;
        }
    }
    return ER_EINVAL;
}

/* Settings whose text must be one of a few words: a typo is caught where it
 * is made (flag, variable or file line), not later as a failed task. */
static const struct {
    const char *section, *key, *words;
    bool list; /* a comma-separated list of them */
} choices[] = {
    { "llm", "provider", "openai, anthropic, offline", false },
    { "bus", "queue_type", "classic, quorum", false },
    { "search", "provider", "searxng, brave, tavily", false },
    { "log", "level", "debug, info, warn, warning, error, off", false },
    { "sandbox", "fallback", "limits, refuse", false },
    { "server", "admin_approval", "write, exec, network, send", true },
};

static bool one_of(const char *words, const char *value, size_t vl)
{
    for (const char *w = words; vl && *w;) {
        size_t wl = strcspn(w, ",");
        if (wl == vl && strncasecmp(w, value, vl) == 0)
            return true;
        w += wl;
        w += strspn(w, ", ");
    }
    return false;
}

static int check_choice(const er_config_key *k, const char *value, er_error *err)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(choices); i++) {
        if (strcmp(choices[i].section, k->section) != 0 || strcmp(choices[i].key, k->key) != 0)
            continue;
        for (const char *v = value; *v;) {
            size_t vl = choices[i].list ? strcspn(v, ", ") : strlen(v);
            if (vl && !one_of(choices[i].words, v, vl))
                return er_error_set(err, ER_EINVAL, "%s.%s: '%.*s' is not one of %s", k->section,
                                    k->key, (int)vl, v, choices[i].words);
            v += vl;
            v += strspn(v, ", ");
        }
        return 0;
    }
    return 0;
}

/* Money settings and the price table are checked when set, not at a task's step. */
static int check_format(const er_config_key *k, const char *value, er_error *err)
{
    int64_t micros;
    if (strcmp(k->section, "agent") == 0 &&
        (strcmp(k->key, "max_cost") == 0 || strcmp(k->key, "max_daily_cost") == 0) &&
        er_price_parse_money(value, &micros))
        return er_error_set(err, ER_EINVAL,
                            "%s.%s: '%s' is not an amount of US dollars (e.g. 0.50)", k->section,
                            k->key, value);
    if (strcmp(k->section, "llm") == 0 && strcmp(k->key, "prices") == 0)
        return er_price_check(value, err);
    return 0;
}

static int set_value(er_config *cfg, const er_config_key *k, const char *value, er_error *err)
{
    void *field = (char *)cfg + k->offset;
    switch (k->type) {
    case ER_CFG_STR: {
        if (!er_str_empty(value) && (check_choice(k, value, err) || check_format(k, value, err)))
            return ER_EINVAL;
        char **s = field;
        free(*s);
        *s = er_str_empty(value) ? NULL : er_xstrdup(value);
        if (k->secret && *s && !er_config_key_is_url(k))
            er_log_add_secret(*s); /* URL passwords are masked wherever a URL is written */
        return 0;
    }
    case ER_CFG_LONG: {
        long v;
        if (er_str_to_long(value, &v) || v < 0)
            return er_error_set(err, ER_EINVAL, "%s.%s: '%s' is not a non-negative number",
                                k->section, k->key, value);
        *(long *)field = v;
        return 0;
    }
    case ER_CFG_POLICY:
        for (size_t i = 0; i < ER_ARRAY_LEN(policy_names); i++) {
            if (strcasecmp(value, policy_names[i]) == 0) {
                *(er_policy *)field = (er_policy)i;
                return 0;
            }
        }
        return er_error_set(err, ER_EINVAL, "%s.%s: '%s' is not one of ask, allow, deny",
                            k->section, k->key, value);
    }
    return ER_EINTERNAL;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = s ? strlen(s) : 0, t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

bool er_config_key_is_url(const er_config_key *k)
{
    /* oauth.issuer is read from OAUTH_ISSUER_URL: its variable says what it is. */
    return k->type == ER_CFG_STR && (ends_with(k->key, "url") || ends_with(k->env, "_URL"));
}

const er_config_key *er_config_find(const char *name)
{
    const char *dot = strchr(name, '.');
    for (size_t i = 0; i < er_config_nkeys; i++) {
        const er_config_key *k = &er_config_keys[i];
        if (dot) {
            size_t sl = (size_t)(dot - name);
            if (strlen(k->section) == sl && strncmp(k->section, name, sl) == 0 &&
                strcmp(k->key, dot + 1) == 0)
                return k;
        } else if (strcmp(k->key, name) == 0) {
            return k;
        }
    }
    return NULL;
}

const char *const er_config_mail_keys[] = {
    "imap_url", "smtp_url", "user",       "password_env", "password_file", "from", "sent",
    "drafts",   "provider", "credential", "cache",        "cache_ttl",     NULL
};

const char *const er_config_watch_keys[] = { "url", "selector", "every", "key", "session", NULL };

/* A section whose name is the user's own ([mail.NAME], [watch.NAME]): its
 * keys, and where its "NAME.KEY=value" entries go. */
typedef struct named_section {
    const char *prefix; /* "mail." */
    const char *what;   /* "mail account" */
    const char *const *keys;
    size_t offset; /* of its er_strv in er_config */
} named_section;

static const named_section named_sections[] = {
    { "mail.", "mail account", er_config_mail_keys, offsetof(er_config, mail_settings) },
    { "watch.", "watched source", er_config_watch_keys, offsetof(er_config, watch_settings) },
};

static int set_named(er_config *cfg, const named_section *ns, const char *name, const char *value,
                     er_error *err)
{
    const char *sect = name + strlen(ns->prefix), *dot = strrchr(sect, '.');
    if (!dot || dot == sect || (size_t)(dot - sect) > 64)
        return er_error_set(err, ER_ENOTFOUND, "unknown setting '%s' (see `man errand.conf`)",
                            name);
    for (const char *p = sect; p < dot; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return er_error_set(err, ER_EINVAL, "%s name '%.*s': use letters, digits, - and _",
                                ns->what, (int)(dot - sect), sect);
    bool known = false;
    er_buf list = ER_BUF_INIT;
    for (size_t i = 0; ns->keys[i]; i++) {
        known |= strcmp(dot + 1, ns->keys[i]) == 0;
        er_buf_printf(&list, "%s%s", i ? ", " : "", ns->keys[i]);
    }
    int rc = 0;
    if (!known)
        rc = er_error_set(err, ER_ENOTFOUND, "unknown setting '%s' (a %s takes %s)", name, ns->what,
                          er_buf_cstr(&list));
    er_buf_release(&list);
    if (rc)
        return rc;
    char *entry = er_xasprintf("%s=%s", sect, value ? value : "");
    er_strv_push((er_strv *)((char *)cfg + ns->offset), entry);
    free(entry);
    return 0;
}

const char *er_config_named(const er_strv *settings, const char *section, const char *key)
{
    size_t sl = strlen(section), kl = strlen(key);
    const char *found = NULL;
    for (size_t i = 0; i < settings->n; i++) {
        const char *e = settings->v[i];
        if (strncmp(e, section, sl) == 0 && e[sl] == '.' && strncmp(e + sl + 1, key, kl) == 0 &&
            e[sl + 1 + kl] == '=')
            found = e + sl + 2 + kl;
    }
    return er_str_empty(found) ? NULL : found;
}

void er_config_section_names(er_strv *out, const er_strv *settings)
{
    for (size_t i = 0; i < settings->n; i++) {
        const char *e = settings->v[i], *dot = strchr(e, '.');
        if (!dot)
            continue;
        char *name = er_xstrndup(e, (size_t)(dot - e));
        bool seen = false;
        for (size_t j = 0; j < out->n && !seen; j++)
            seen = strcmp(out->v[j], name) == 0;
        if (!seen)
            er_strv_push(out, name);
        free(name);
    }
}

const char *er_config_mail(const er_config *cfg, const char *account, const char *key)
{
    return er_config_named(&cfg->mail_settings, account, key);
}

/* An unknown setting, with the known one it is likely a typo of. */
static int unknown_setting(const char *name, er_error *err)
{
    const char *dot = strchr(name, '.');
    size_t best = 3; /* at most two edits away */
    const er_config_key *near = NULL;
    for (size_t i = 0; i < er_config_nkeys; i++) {
        const er_config_key *k = &er_config_keys[i];
        char *full = er_xasprintf("%s.%s", k->section, k->key);
        size_t d = er_str_distance(name, dot ? full : k->key);
        if (d < best) {
            best = d;
            near = k;
        }
        free(full);
    }
    if (near)
        return er_error_set(err, ER_ENOTFOUND, "unknown setting '%s'; did you mean '%s.%s'?", name,
                            near->section, near->key);
    return er_error_set(err, ER_ENOTFOUND, "unknown setting '%s' (see `man errand.conf`)", name);
}

int er_config_set(er_config *cfg, const char *name, const char *value, er_error *err)
{
    if (er_str_starts(name, "mcp.")) {
        if (!cfg->mcp)
            cfg->mcp = er_xcalloc(1, sizeof *cfg->mcp);
        return er_mcp_config_set(cfg->mcp, name + 4, value, err);
    }
    const er_config_key *k = er_config_find(name);
    for (size_t i = 0; !k && i < ER_ARRAY_LEN(named_sections); i++)
        if (er_str_starts(name, named_sections[i].prefix) &&
            strchr(name + strlen(named_sections[i].prefix), '.'))
            return set_named(cfg, &named_sections[i], name, value, err);
    if (!k)
        return unknown_setting(name, err);
    return set_value(cfg, k, value, err);
}

char *er_xdg_dir(const char *kind, bool mkdir_it, er_error *err)
{
    const char *env = NULL, *fallback = NULL;
    if (strcmp(kind, "data") == 0) {
        env = "XDG_DATA_HOME";
        fallback = ".local/share";
    } else if (strcmp(kind, "state") == 0) {
        env = "XDG_STATE_HOME";
        fallback = ".local/state";
    } else {
        env = "XDG_CONFIG_HOME";
        fallback = ".config";
    }
    const char *base = getenv(env);
    char *dir;
    if (!er_str_empty(base)) {
        dir = er_xasprintf("%s/errand", base);
    } else {
        const char *home = getenv("HOME");
        if (er_str_empty(home)) {
            er_error_set(err, ER_EINVAL, "neither %s nor HOME is set", env);
            return NULL;
        }
        dir = er_xasprintf("%s/%s/errand", home, fallback);
    }
    if (mkdir_it) {
        /* mkdir -p */
        for (char *p = dir + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(dir, 0700);
                *p = '/';
            }
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            er_error_set(err, ER_EIO, "cannot create '%s': %s", dir, strerror(errno));
            free(dir);
            return NULL;
        }
    }
    return dir;
}

static int load_file(er_config *cfg, const char *path, bool must_exist, er_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!must_exist && errno == ENOENT)
            return 0;
        return er_error_set(err, ER_EIO, "cannot read config '%s': %s", path, strerror(errno));
    }
    char *line = NULL, section[64] = "";
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        /* Read whole and refused when long: a line cut in pieces would make
         * the tail of a long comment a setting. */
        if ((size_t)len > CONFIG_LINE_MAX) {
            rc = er_error_set(err, ER_ETOOBIG, "%s:%d: line longer than %d bytes", path, lineno,
                              CONFIG_LINE_MAX);
            break;
        }
        char *s = er_str_trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *rb = strchr(s, ']');
            if (!rb) {
                rc = er_error_set(err, ER_EINVAL, "%s:%d: missing ']'", path, lineno);
                break;
            }
            char *after = er_str_trim(rb + 1);
            *rb = '\0';
            char *name = er_str_trim(s + 1);
            if (!*name || (*after && *after != '#' && *after != ';')) {
                rc = er_error_set(err, ER_EINVAL, "%s:%d: expected [section]", path, lineno);
                break;
            }
            er_strlcpy(section, name, sizeof section);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = er_error_set(err, ER_EINVAL, "%s:%d: expected key = value", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = er_str_trim(s), *val = er_str_trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        char name[160];
        snprintf(name, sizeof name, "%s%s%s", section, *section ? "." : "", key);
        rc = er_config_set(cfg, name, val, err);
        if (rc)
            er_error_prefix(err, "%s:%d", path, lineno);
    }
    /* A directory opens, then fails to read (EISDIR): not an empty file. */
    if (!rc && ferror(f))
        rc = er_error_set(err, ER_EIO, "cannot read config '%s': %s", path, strerror(errno));
    free(line);
    fclose(f);
    if (!rc)
        cfg->config_path = er_xstrdup(path);
    return rc;
}

int er_config_load(er_config *cfg, const char *path, er_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < er_config_nkeys; i++) {
        const er_config_key *k = &er_config_keys[i];
        if (k->def)
            set_value(cfg, k, k->def, NULL);
    }
    int rc;
    if (path) {
        rc = load_file(cfg, path, true, err);
    } else {
        char *dir = er_xdg_dir("config", false, NULL);
        char *file = dir ? er_xasprintf("%s/config", dir) : NULL;
        rc = file ? load_file(cfg, file, false, err) : 0;
        free(file);
        free(dir);
    }
    for (size_t i = 0; !rc && i < er_config_nkeys; i++) {
        const er_config_key *k = &er_config_keys[i];
        const char *v = k->env ? getenv(k->env) : NULL;
        if (v && *v) {
            rc = set_value(cfg, k, v, err);
            if (rc)
                er_error_prefix(err, "environment %s", k->env);
        }
    }
    if (!rc && !cfg->user) {
        const char *u = getenv("USER");
        cfg->user = er_xstrdup(er_str_empty(u) ? "local" : u);
    }
    if (!rc && !cfg->workspace) {
        char cwd[PATH_MAX];
        cfg->workspace = er_xstrdup(getcwd(cwd, sizeof cwd) ? cwd : ".");
    }
    if (!rc && !cfg->database_url) {
        char *dir = er_xdg_dir("data", false, err);
        if (!dir)
            rc = err ? err->code : ER_EINVAL;
        else
            cfg->database_url = er_xasprintf("sqlite://%s/errand.db", dir);
        free(dir);
    }
    if (rc)
        er_config_release(cfg);
    return rc;
}

void er_config_release(er_config *cfg)
{
    for (size_t i = 0; i < er_config_nkeys; i++) {
        const er_config_key *k = &er_config_keys[i];
        if (k->type == ER_CFG_STR) {
            char **s = (char **)((char *)cfg + k->offset);
            free(*s);
            *s = NULL;
        }
    }
    free(cfg->config_path);
    cfg->config_path = NULL;
    if (cfg->mcp) {
        er_mcp_config_release(cfg->mcp);
        free(cfg->mcp);
        cfg->mcp = NULL;
    }
    er_strv_free(&cfg->mail_settings);
    er_strv_free(&cfg->watch_settings);
}

char *er_config_get_text(const er_config *cfg, const er_config_key *k, bool mask)
{
    const void *field = (const char *)cfg + k->offset;
    switch (k->type) {
    case ER_CFG_STR: {
        const char *s = *(char *const *)field;
        if (!s)
            return NULL;
        /* Every URL setting, secret or not: llm.openai_base_url may carry a password. */
        if (mask && er_config_key_is_url(k))
            return er_url_redacted(s);
        if (mask && k->secret)
            return er_xstrdup("***");
        return er_xstrdup(s);
    }
    case ER_CFG_LONG: return er_xasprintf("%ld", *(const long *)field);
    case ER_CFG_POLICY: return er_xstrdup(er_policy_name(*(const er_policy *)field));
    }
    return NULL;
}

const char *er_config_llm_provider(const er_config *cfg)
{
    if (!er_str_empty(cfg->llm))
        return cfg->llm;
    if (!er_str_empty(cfg->anthropic_api_key) && er_str_empty(cfg->openai_api_key))
        return "anthropic";
    if (!er_str_empty(cfg->openai_api_key))
        return "openai";
    return "offline";
}
