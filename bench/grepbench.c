/* grepbench.c — errand's side of the search benchmark (bench/search.py): runs
 * the grep tool itself, in process, the way the code agent calls it.
 *
 *   errand_grepbench DIR ARGS_JSON [REPEAT]
 *
 * The configuration is read as errand reads it: ERRAND_GREP_THREADS sets the
 * threads (default: one per core).
 *
 * Prints one JSON object: {seconds (best wall time of REPEAT runs), count,
 * files_searched, files_matched, truncated}. */
#include "errand/alloc.h"
#include "errand/config.h"
#include "errand/env.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/tool.h"
#include "errand/tool_families.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: errand_grepbench DIR ARGS_JSON [REPEAT]\n");
        return 2;
    }
    const er_tool *grep = er_tool_find("grep");
    cJSON *args = cJSON_Parse(argv[2]);
    if (!grep || !args) {
        fprintf(stderr, "errand_grepbench: no grep tool, or ARGS_JSON is not JSON\n");
        return 2;
    }
    int repeat = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 1;
    er_error cerr = { 0 };
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    er_env *env = NULL;
    if (er_config_load(cfg, NULL, &cerr) != 0 || er_env_new(&env, cfg, &cerr) != 0) {
        fprintf(stderr, "errand_grepbench: %s\n", cerr.msg);
        return 2;
    }
    er_tool_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.env = env;
    ctx.workspace = argv[1];
    ctx.agent = "bench";
    double best = 1e9;
    cJSON *last = NULL;
    for (int i = 0; i < (repeat > 0 ? repeat : 1); i++) {
        er_buf out = ER_BUF_INIT;
        er_error err = { 0 };
        uint64_t t0 = er_mono_ns();
        int rc = grep->run(&ctx, args, &out, &err);
        double s = (double)(er_mono_ns() - t0) / 1e9;
        if (rc) {
            fprintf(stderr, "errand_grepbench: %s\n", err.msg);
            return 1;
        }
        best = s < best ? s : best;
        cJSON_Delete(last);
        last = cJSON_Parse(er_buf_cstr(&out));
        er_buf_release(&out);
    }
    printf("{\"seconds\":%.4f,\"count\":%.0f,\"files_searched\":%.0f,\"files_matched\":%.0f,"
           "\"truncated\":%s}\n",
           best, er_json_num(last, "count", -1), er_json_num(last, "files_searched", -1),
           er_json_num(last, "files_matched", -1),
           er_json_bool(last, "truncated", false) ? "true" : "false");
    cJSON_Delete(last);
    cJSON_Delete(args);
    er_env_close(env);
    return 0;
}
