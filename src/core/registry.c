/* registry.c — the list of deep agents; each is a const definition in src/agents/. */
#include "errand/agent.h"

#include <string.h>

extern const er_agent_def er_agent_code, er_agent_research, er_agent_data, er_agent_email,
    er_agent_browser;

const er_agent_def *const er_agents[] = {
    &er_agent_code, &er_agent_research, &er_agent_data, &er_agent_email, &er_agent_browser, NULL,
};

const er_agent_def *er_agent_find(const char *name)
{
    for (size_t i = 0; name && er_agents[i]; i++)
        if (strcmp(er_agents[i]->name, name) == 0)
            return er_agents[i];
    return NULL;
}

const er_subagent_def *er_subagent_find(const er_agent_def *a, const char *name)
{
    for (size_t i = 0; name && i < a->nsubagents; i++)
        if (strcmp(a->subagents[i].name, name) == 0)
            return &a->subagents[i];
    return NULL;
}

size_t er_agent_count(void)
{
    return ER_ARRAY_LEN(er_agents) - 1;
}
