/* config.h — the effective configuration: flags > environment > config file > defaults.
 *
 * One const table (er_config_keys) names every setting: its INI section and key,
 * its environment variable, whether it is secret and what it means.  Loading,
 * `errand doctor` and the man-page check all read that table. */
#ifndef ERRAND_CONFIG_H
#define ERRAND_CONFIG_H

#include "common.h"
#include "error.h"
#include "strv.h"

typedef enum { ER_POLICY_ASK = 0, ER_POLICY_ALLOW, ER_POLICY_DENY } er_policy;

/* Permission classes of tools (tool.h uses them).  ER_PERM_NETWORK is the
 * class of tools that fetch from the network (web_search, fetch_url);
 * ER_PERM_EXEC_NETWORK is no tool's class but decides whether the programs
 * run and test start get the network inside their sandbox. */
typedef enum {
    ER_PERM_READ = 0,
    ER_PERM_WRITE,
    ER_PERM_EXEC,
    ER_PERM_NETWORK,
    ER_PERM_SEND,
    ER_PERM_EXEC_NETWORK,
    ER_PERM_COUNT
} er_perm;

typedef struct er_config {
    char *database_url;   /* sqlite:///…/errand.db by default */
    char *rabbitmq_url;   /* NULL: in-process bus */
    char *bus_queue_type; /* RabbitMQ queue type: "classic" (default) or "quorum" */
    char *redis_url;      /* NULL: in-process cache */
    char *llm;            /* "offline", "openai", "anthropic"; NULL: pick from keys */
    char *model;
    char *openai_api_key;
    char *openai_base_url;
    char *anthropic_api_key;
    char *anthropic_base_url;
    char *user;           /* local user name */
    char *workspace;      /* root of file tools; default cwd */
    long grep_threads;    /* threads the grep tool searches with; 0: one per core */
    char *workspaces;     /* errand serve: root of the users' own workspaces */
    char *admin_approval; /* errand serve: classes only an admin may approve for others */
    /* the sandbox of run, test, lint and diff (sandbox.h) */
    char *sandbox_fallback; /* without bwrap: "limits", "refuse"; NULL: by the task's origin */
    char *sandbox_env;      /* more variables passed to commands (NAME, PREFIX*) */
    char *sandbox_expose;   /* more read-only paths shown to commands */
    long sandbox_memory_mb; /* one command's processes together (cgroup) */
    long sandbox_pids;
    long sandbox_tmp_mb;  /* the jail's /tmp and /dev/shm */
    long sandbox_undo_mb; /* content kept before a run for errand undo (snapshot.h); 0: none */
    char *data_db;        /* the data agent's database; NULL: WORKSPACE/.errand/data.sqlite */
    char *log_level;
    char *log_file;
    er_policy policy[ER_PERM_COUNT];
    long max_steps;
    long max_tokens;
    char *max_cost;         /* dollars one task may cost (price.h); NULL: no limit */
    char *max_daily_cost;   /* dollars a user's tasks may cost per UTC day; NULL: no limit */
    long max_daily_tokens;  /* tokens a user's tasks may use per UTC day; 0: no limit */
    long max_daily_seconds; /* seconds a user's tasks may work per UTC day; 0: no limit */
    char *llm_prices;       /* the price table (price.h); NULL: none */
    char *llm_record;       /* cassette every LLM exchange is appended to (cassette.h) */
    char *llm_replay;       /* cassette the LLM answers come from, no network (cassette.h) */
    long max_seconds;
    long deadline_margin;  /* seconds past max_seconds before a running task is failed */
    long approval_timeout; /* seconds to wait for a y/n answer */
    long llm_timeout;      /* seconds per request */
    long llm_retries;
    long llm_context_window; /* tokens the model reads at most; 0: known for the model */
    long llm_compact_at;     /* percent of the window past which history is compacted */
    /* the web tools (research agent) */
    char *search_provider; /* "searxng", "brave", "tavily"; NULL: chosen from the settings */
    char *search_url;      /* the provider's base URL (SearXNG's is required) */
    char *brave_api_key;
    char *tavily_api_key;
    long search_count;     /* results asked for by default */
    char *web_allow_hosts; /* SSRF guard's allow list (netguard.h) */
    long web_cache_ttl;    /* seconds pages and search results stay cached */
    long web_max_bytes;    /* decoded bytes of a page read at most */
    long web_timeout;      /* seconds one fetch may take */
    long web_max_redirects;
    long web_delay_ms; /* politeness: least time between two fetches from one host */
    /* shared memory (memory.h) */
    char *memory_embedding_model; /* NULL: offline hashed n-grams */
    long memory_exact_max;        /* vectors scanned exactly before the index is used */
    char *memory_quantize;        /* the index's vectors: "float32" (default) or "int8" */
    /* the browser tools (browser_pool.h) */
    char *browser_engine;   /* "chromium" */
    char *browser_binary;   /* NULL: the engine's Debian path */
    char *browser_headless; /* "true" (default) or "false" */
    long browser_max_instances;
    long browser_recycle_after;
    long browser_page_timeout;    /* seconds */
    long browser_command_timeout; /* seconds */
    long browser_memory_max;      /* MiB per browser, all its processes; 0: none */
    long browser_max_processes;   /* processes and threads per browser; 0: none */
    /* errand serve */
    char *listen;                /* "127.0.0.1:8080" */
    char *public_url;            /* base URL clients reach the server at; NULL: http://LISTEN */
    char *web_root;              /* the web interface's built files; NULL: the installed ones */
    char *jwt_secret;            /* HS256 key; NULL: generated in the data dir */
    char *cors_origins;          /* comma-separated allow-list for CORS and WebSocket Origin */
    char *metrics_token;         /* bearer token /metrics requires; NULL: open */
    long server_threads;         /* HTTP event threads; 0: one per CPU */
    long server_workers;         /* in-process worker concurrency in local mode; 0: none */
    long max_tasks_per_user;     /* errand serve: a user's tasks not ended at once; 0: no cap */
    long access_ttl;             /* seconds an access token (JWT) lives */
    long refresh_ttl;            /* seconds a refresh token lives */
    long rate_limit;             /* requests per user and endpoint per window; 0: off */
    long rate_window;            /* seconds */
    long max_body;               /* bytes of a request body */
    long timeout_ms;             /* silence after which a connection is closed */
    long max_connections;        /* open at once, in all */
    long max_connections_per_ip; /* open at once from one address; 0: no limit */
    long header_timeout_ms;      /* a request's headers must be in within this */
    /* OpenID Connect login */
    char *oauth_issuer;
    char *oauth_client_id;
    char *oauth_client_secret;
    char *oauth_scopes;
    /* Gmail (oauth.h): the OAuth client and the endpoints (fakes in tests) */
    char *gmail_client_id;
    char *gmail_client_secret;
    char *gmail_auth_url;
    char *gmail_token_url;
    char *gmail_revoke_url;
    char *gmail_api_url;
    char *audit_path; /* the audit log (audit.h); NULL: in the data dir */
    /* mailboxes (mail.h): [mail.NAME] sections, one account each */
    char *mail_account;    /* the account tools use when none is named */
    er_strv mail_settings; /* "NAME.KEY=value", in the order set (later wins) */
    /* the trend finder's watched sources: [watch.NAME] sections, same form */
    er_strv watch_settings;
    char *config_path;          /* the file that was read, or NULL */
    struct er_mcp_servers *mcp; /* OWNED [mcp.NAME] sections (mcp.h), or NULL */
} er_config;

typedef enum { ER_CFG_STR, ER_CFG_LONG, ER_CFG_POLICY } er_config_type;

typedef struct er_config_key {
    const char *section; /* INI section */
    const char *key;     /* INI key */
    const char *env;     /* environment variable or NULL */
    er_config_type type;
    size_t offset; /* into er_config */
    bool secret;
    const char *def; /* default as text, NULL when computed or none */
    const char *help;
} er_config_key;

extern const er_config_key er_config_keys[];
extern const size_t er_config_nkeys;

/* Defaults, then the file (path, or $XDG_CONFIG_HOME/errand/config when NULL and it
 * exists), then the environment.  Flags are applied afterwards with er_config_set. */
int er_config_load(er_config *out, const char *path, er_error *err);
/* Sets "section.key" (or bare key) from text; ER_ENOTFOUND / ER_EINVAL.
 * "mcp.NAME.KEY" sets a key of MCP server NAME (mcp.h). */
int er_config_set(er_config *cfg, const char *name, const char *value, er_error *err);
void er_config_release(er_config *cfg);
/* Keys an account section [mail.NAME] may hold (NULL-terminated). */
extern const char *const er_config_mail_keys[];
/* The value of mail.ACCOUNT.KEY, or NULL.  BORROWED: valid until the next set. */
const char *er_config_mail(const er_config *cfg, const char *account, const char *key);
/* Keys a watched source [watch.NAME] may hold (NULL-terminated). */
extern const char *const er_config_watch_keys[];
/* Sections named by the user ([mail.NAME], [watch.NAME]) keep "NAME.KEY=value"
 * entries: the value of NAME.KEY (the last one set), or NULL.  BORROWED. */
const char *er_config_named(const er_strv *settings, const char *section, const char *key);
/* The section names of such entries, each once, in the order first set. */
void er_config_section_names(er_strv *out, const er_strv *settings);
/* The key "section.key" (or a bare key) names; NULL when none. */
const er_config_key *er_config_find(const char *name);
/* A URL setting (its key ends in "url"): its password is masked when shown,
 * secret or not. */
bool er_config_key_is_url(const er_config_key *k);
/* Value as text (OWNED), masked when mask is true: secrets as "***", URLs
 * with their password as "***"; NULL when unset. */
char *er_config_get_text(const er_config *cfg, const er_config_key *k, bool mask);
const char *er_policy_name(er_policy p);
const char *er_perm_name(er_perm p);
int er_perm_parse(const char *name, er_perm *out);
/* The provider the configuration selects: explicit llm, else a key present, else offline. */
const char *er_config_llm_provider(const er_config *cfg);

/* XDG paths (OWNED): $XDG_{DATA,STATE,CONFIG}_HOME/errand, created on demand when mkdir is true. */
char *er_xdg_dir(const char *kind, bool mkdir_it, er_error *err);

#endif
