/* worker_int.h — private to the bus handlers of src/core/ (supervisor.c,
 * worker.c, aggregator.c): what they share.  Nothing outside src/core/
 * includes this. */
#ifndef ERRAND_WORKER_INT_H
#define ERRAND_WORKER_INT_H

#include "errand/bus.h"
#include "errand/env.h"
#include "errand/store.h"
#include <cjson/cJSON.h>

/* The task a bus message names, loaded from the store, with the log context
 * set to it.  0, or the error code with *verdict the answer to give the bus:
 * ER_EPROTO (a body that is not JSON or has no task_id) and ER_ENOTFOUND (no
 * such task) → ER_BUS_REJECT, a store failure → ER_BUS_RETRY.  body_out (may
 * be NULL) gets the parsed body, OWNED: cJSON_Delete. */
int er_worker_load_task(er_env *env, const er_bus_msg *msg, er_task *out, cJSON **body_out,
                        er_bus_verdict *verdict);

#endif
