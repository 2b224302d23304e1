/* fuzz_anthropic.c — Anthropic Messages answers (src/llm/anthropic.c through
 * provider.c): buffered JSON and message_start … content_block_* …
 * message_stop event streams.  The checks are in fuzz_llm.h. */
#include "fuzz_llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_llm(&er_llm_anthropic_wire, "anthropic", data, size);
}
