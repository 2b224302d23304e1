/* fuzz_route.c — er_route_from_json (src/core/router.c): the model's routing
 * decision, the arguments of its `route` call, which may be anything.
 * Invariants: only EPROTO fails (with a message); a decision that is accepted
 * has 1 or more steps, each for a known agent, each depending only on an
 * earlier step (or none: no cycle can get through); writing it back and
 * reading it again gives the same decision. */
#include "fuzz.h"
#include "errand/agent.h"
#include "errand/json.h"
#include "errand/router.h"

static void check_route(const er_route *r)
{
    FUZZ_CHECK(r->nsteps >= 1);
    for (size_t i = 0; i < r->nsteps; i++) {
        FUZZ_CHECK(er_agent_find(r->steps[i].agent) != NULL);
        FUZZ_CHECK(r->steps[i].request != NULL);
        FUZZ_CHECK(r->steps[i].depends_on >= -1 && r->steps[i].depends_on < (int)i);
    }
    FUZZ_CHECK(r->method != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *j = NULL;
    if (er_json_parse(&j, (const char *)data, size, NULL) != 0)
        return 0;
    er_route r;
    er_error err = { 0 };
    int rc = er_route_from_json(&r, j, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EPROTO);
    if (rc == 0) {
        check_route(&r);
        cJSON *back = er_route_to_json(&r);
        er_route again;
        FUZZ_CHECK(er_route_from_json(&again, back, &err) == 0);
        FUZZ_CHECK(again.nsteps == r.nsteps);
        for (size_t i = 0; i < r.nsteps; i++) {
            FUZZ_CHECK(strcmp(again.steps[i].agent, r.steps[i].agent) == 0);
            FUZZ_CHECK(strcmp(again.steps[i].request, r.steps[i].request) == 0);
            FUZZ_CHECK(again.steps[i].depends_on == r.steps[i].depends_on);
        }
        er_route_release(&again);
        cJSON_Delete(back);
        er_route_release(&r);
    }
    cJSON_Delete(j);
    return 0;
}
