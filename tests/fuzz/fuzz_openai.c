/* fuzz_openai.c — OpenAI Chat Completions answers (src/llm/openai.c through
 * provider.c): buffered JSON and "data: {chunk}" streams ending in [DONE].
 * The checks are in fuzz_llm.h. */
#include "fuzz_llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_llm(&er_llm_openai_wire, "openai", data, size);
}
