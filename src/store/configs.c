/* configs.c — per-agent configuration: one JSON object per agent name, set by
 * `errand config` or the API and read when an agent starts a task. */
#include "store_int.h"
#include "errand/json.h"
#include "errand/str.h"

#include <string.h>

/* A config is a small settings object; anything bigger is a mistake. */
#define MAX_CONFIG_BYTES (256 * 1024)

static int config_row(const er_sql_value *cols, int ncols, void *payload)
{
    if (ncols > 0)
        *(char **)payload = er_sql_col_text(&cols[0]);
    return 1;
}

int er_store_agent_config_get(er_store *st, const char *agent, char **json_out, er_error *err)
{
    *json_out = NULL;
    if (er_str_empty(agent))
        return er_error_set(err, ER_EINVAL, "agent name is empty");
    er_sql_value param = ER_SQL_S(agent);
    int rc = er_sql_query(st, "SELECT config FROM agent_configs WHERE agent = ?", &param, 1,
                          config_row, json_out, err);
    if (rc == 0 && !*json_out)
        rc = er_error_set(err, ER_ENOTFOUND, "no stored config for agent '%s'", agent);
    return rc;
}

static int check_object(const char *agent, const char *json, er_error *err)
{
    size_t len = strlen(json);
    if (len > MAX_CONFIG_BYTES)
        return er_error_set(err, ER_ETOOBIG, "config for agent '%s' is %zu bytes (max %d)", agent,
                            len, MAX_CONFIG_BYTES);
    cJSON *doc = NULL;
    int rc = er_json_parse(&doc, json, len, err);
    if (rc) {
        er_error_prefix(err, "config for agent '%s'", agent);
        if (err)
            err->code = ER_EINVAL; /* bad input from the caller, not a peer */
        return ER_EINVAL;
    }
    if (!cJSON_IsObject(doc))
        rc = er_error_set(err, ER_EINVAL, "config for agent '%s' must be a JSON object", agent);
    cJSON_Delete(doc);
    return rc;
}

int er_store_agent_config_set(er_store *st, const char *agent, const char *json, er_error *err)
{
    if (er_str_empty(agent))
        return er_error_set(err, ER_EINVAL, "agent name is empty");
    if (!json)
        return er_error_set(err, ER_EINVAL, "config for agent '%s' is missing", agent);
    int rc = check_object(agent, json, err);
    if (rc)
        return rc;
    er_sql_value params[] = { ER_SQL_S(agent), ER_SQL_S(json), ER_SQL_I(er_time_ms()) };
    return er_sql_exec(st,
                       "INSERT INTO agent_configs (agent, config, updated_ms) VALUES (?, ?, ?) "
                       "ON CONFLICT (agent) DO UPDATE SET config = excluded.config, "
                       "updated_ms = excluded.updated_ms",
                       params, 3, NULL, err);
}
