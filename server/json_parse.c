/* json_parse.c — JSON from outside (request bodies, WebSocket messages,
 * identity providers' answers, token claims) parsed with a cap on nesting:
 * cJSON recurses once per level, and a hostile text must not exhaust a
 * thread's stack.  No request state: jwt.c and oidc.c use it too. */
#include "server.h"

int srv_json_parse(cJSON **out, const char *s, size_t len, er_error *err)
{
    *out = NULL;
    int depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if ((c == '[' || c == '{') && ++depth > SRV_JSON_DEPTH) {
            return er_error_set(err, ER_EPROTO, "JSON nested deeper than %d levels",
                                SRV_JSON_DEPTH);
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return er_json_parse(out, s, len, err);
}
