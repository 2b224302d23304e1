/* fake_llm_embed.h — fake_llm's OpenAI embeddings endpoint (POST /v1/embeddings).
 *
 * Deterministic vectors that behave like a real model's where the tests look:
 * each word is lower-cased, mapped through a small table of synonyms onto one
 * concept ("automobile", "vehicle" → "car"), common words are dropped, and
 * each concept adds ±1 to one hashed dimension; the sum is normalised.  So a
 * paraphrase with no word in common ("my feline companion" / "the cat") lands
 * next to the original, which full text alone cannot find.
 *
 * Request: {"model", "input": string | [string, …], "dimensions"?, "encoding_format"?}.
 * Answer: {"object": "list", "data": [{"object": "embedding", "index", "embedding"}],
 * "model", "usage": {"prompt_tokens", "total_tokens"}}.  An input over 64
 * strings, an empty string or a missing model is a 400, as OpenAI answers. */
#ifndef FAKE_LLM_EMBED_H
#define FAKE_LLM_EMBED_H

#include "errand/json.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define FAKE_EMBED_DIM        64
#define FAKE_EMBED_MAX_INPUTS 64

static const char *const fake_embed_synonyms[][2] = {
    { "automobile", "car" },   { "vehicle", "car" },    { "cars", "car" },
    { "feline", "cat" },       { "kitten", "cat" },     { "cats", "cat" },
    { "canine", "dog" },       { "puppy", "dog" },      { "dogs", "dog" },
    { "physician", "doctor" }, { "medic", "doctor" },   { "purchase", "buy" },
    { "bought", "buy" },       { "residence", "home" }, { "house", "home" },
    { "beverage", "drink" },   { "coffee", "drink" },   { "espresso", "drink" },
    { "favourite", "like" },   { "favorite", "like" },  { "prefers", "like" },
    { "loves", "like" },       { "enjoy", "like" },     { "enjoys", "like" },
};

static const char *const fake_embed_stop[] = {
    "a",   "an",   "the", "my",   "our", "is",  "are", "was",  "of",   "to",   "and",
    "in",  "on",   "for", "with", "i",   "me",  "it",  "this", "that", "what", "which",
    "who", "does", "do",  "she",  "he",  "her", "his", "have", "has",
};

/* FNV-1a with a final mix, so that short words spread over the dimensions. */
static uint64_t fake_embed_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static void fake_embed_text(const char *text, float *out, int dim)
{
    memset(out, 0, (size_t)dim * sizeof *out);
    const char *p = text;
    while (*p) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        char word[64];
        size_t n = 0;
        while (*p && isalnum((unsigned char)*p)) {
            if (n + 1 < sizeof word)
                word[n++] = (char)tolower((unsigned char)*p);
            p++;
        }
        word[n] = '\0';
        if (!n)
            break;
        bool stop = false;
        for (size_t i = 0; i < sizeof fake_embed_stop / sizeof *fake_embed_stop; i++)
            stop = stop || strcmp(word, fake_embed_stop[i]) == 0;
        if (stop)
            continue;
        const char *concept = word;
        for (size_t i = 0; i < sizeof fake_embed_synonyms / sizeof *fake_embed_synonyms; i++)
            if (strcmp(word, fake_embed_synonyms[i][0]) == 0)
        concept = fake_embed_synonyms[i][1];
        uint64_t h = fake_embed_hash(concept, strlen(concept));
        out[h % (uint64_t)dim] += (h >> 63) ? 1.0f : -1.0f;
    }
    double norm = 0;
    for (int i = 0; i < dim; i++)
        norm += (double)out[i] * out[i];
    if (norm > 0)
        for (int i = 0; i < dim; i++)
            out[i] = (float)(out[i] / sqrt(norm));
}

/* The answer to a parsed request, or NULL with *msg set for a 400. */
static cJSON *fake_embed_answer(const cJSON *req, const char **msg)
{
    const char *model = er_json_str(req, "model");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(req, "input");
    int dim = (int)er_json_num(req, "dimensions", FAKE_EMBED_DIM);
    if (!model || !*model) {
        *msg = "you must provide a model parameter";
        return NULL;
    }
    if (dim < 1 || dim > 4096) {
        *msg = "dimensions must be between 1 and 4096";
        return NULL;
    }
    int n = cJSON_IsString(input) ? 1 : cJSON_IsArray(input) ? cJSON_GetArraySize(input) : 0;
    if (n < 1 || n > FAKE_EMBED_MAX_INPUTS) {
        *msg = "'input' must be a string or an array of 1 to 64 strings";
        return NULL;
    }
    cJSON *root = cJSON_CreateObject(), *data = cJSON_CreateArray();
    float *v = malloc((size_t)dim * sizeof *v);
    long tokens = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_IsString(input) ? input : cJSON_GetArrayItem(input, i);
        if (!cJSON_IsString(s) || !*s->valuestring) {
            *msg = "'input' cannot contain an empty string";
            free(v);
            cJSON_Delete(data);
            cJSON_Delete(root);
            return NULL;
        }
        fake_embed_text(s->valuestring, v, dim);
        tokens += (long)(strlen(s->valuestring) / 4 + 1);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "object", "embedding");
        cJSON_AddNumberToObject(e, "index", i);
        cJSON *arr = cJSON_CreateArray();
        for (int j = 0; j < dim; j++)
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(v[j]));
        cJSON_AddItemToObject(e, "embedding", arr);
        cJSON_AddItemToArray(data, e);
    }
    free(v);
    cJSON_AddStringToObject(root, "object", "list");
    cJSON_AddItemToObject(root, "data", data);
    cJSON_AddStringToObject(root, "model", model);
    cJSON *usage = cJSON_CreateObject();
    cJSON_AddNumberToObject(usage, "prompt_tokens", (double)tokens);
    cJSON_AddNumberToObject(usage, "total_tokens", (double)tokens);
    cJSON_AddItemToObject(root, "usage", usage);
    return root;
}

#endif
