/* cmd_route.c — `errand route`: the supervisor's decision, without running anything. */
#include "cli.h"
#include "errand/json.h"
#include "errand/router.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_route(cli *c, cli_args *a)
{
    if (a->npos == 0)
        return cli_usage_error("route", "which request? (errand route \"request\")");
    er_error err = { 0 };
    int rc = cli_env(c, &err);
    if (rc)
        return cli_fail(&err);
    char *request = cli_join(a, 0);
    if (!*request) {
        free(request);
        return cli_usage_error("route", "the request is empty");
    }
    er_route r;
    rc = er_router_decide(c->env, request, NULL, &r, &err);
    free(request);
    if (rc)
        return cli_fail(&err);
    if (cli_flag(a, "json")) {
        cJSON *j = er_route_to_json(&r);
        char *text = cJSON_Print(j);
        puts(text);
        free(text);
        cJSON_Delete(j);
    } else {
        for (size_t i = 0; i < r.nsteps; i++) {
            printf("%zu. %s: %s", i + 1, r.steps[i].agent, r.steps[i].request);
            if (r.steps[i].depends_on >= 0)
                printf("  (uses the result of step %d)", r.steps[i].depends_on + 1);
            /* A compound plan: each part was classified on its own. */
            if (r.nsteps > 1 && r.steps[i].confidence >= 0)
                printf("  [confidence %.2f]", r.steps[i].confidence);
            putchar('\n');
        }
        if (r.reason) /* the model's decision was unusable */
            printf("fallback: the model's decision was unusable (%s); the offline classifier "
                   "decided\n",
                   r.reason);
        if (r.confidence >= 0)
            printf("confidence %.2f (%s)%s\n", r.confidence, r.classifier ? r.classifier : r.method,
                   r.nsteps > 1 ? ", the lowest of the steps'" : "");
        else
            printf("method %s\n", r.method);
        const cJSON *s;
        if (r.scores) {
            printf(r.nsteps > 1 ? "scores of the whole request:" : "scores:");
            cJSON_ArrayForEach(s, r.scores) printf(" %s=%.3f", s->string, s->valuedouble);
            putchar('\n');
        }
    }
    er_route_release(&r);
    return EXIT_DONE;
}
