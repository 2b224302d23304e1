/* embedder.h — text to vectors for memory search: the configured provider's
 * OpenAI-compatible embeddings endpoint, or a deterministic offline one.
 *
 * Remote: POST {OPENAI_BASE_URL}/embeddings with {"model", "input": [...]},
 * the texts sent in batches of ER_EMBED_BATCH; OpenAI, Ollama, vLLM and the
 * llama.cpp server all speak it.  Chosen by the setting memory.embedding_model.
 * Offline (no model set): hashed character n-grams — the word's 3-grams and
 * the word itself, each hashed to a signed dimension — so texts sharing word
 * pieces ("deploy", "deployment") land near each other, with no model.
 * Every vector comes back L2-normalised.
 *
 * Thread-safe once open: any thread may embed. */
#ifndef ERRAND_EMBEDDER_H
#define ERRAND_EMBEDDER_H

#include "common.h"
#include "error.h"

#define ER_EMBED_BATCH       32 /* texts per request */
#define ER_EMBED_OFFLINE_DIM 256

typedef struct er_embedder er_embedder;

typedef struct er_embedder_opts {
    const char *model;    /* NULL or "": offline hashing */
    const char *base_url; /* NULL: https://api.openai.com/v1 */
    const char *api_key;  /* NULL: no Authorization header (a local server) */
    long timeout_ms;      /* per request; 0: 60 s */
    int retries;
} er_embedder_opts;

int er_embedder_open(er_embedder **out, const er_embedder_opts *opts, er_error *err);
void er_embedder_close(er_embedder *e);
/* The name vectors are stored under: the model's, or "hash-ngram-256". BORROWED. */
const char *er_embedder_model(const er_embedder *e);
bool er_embedder_offline(const er_embedder *e);
/* Embeds texts[0..n): *out gets n * *dim floats, OWNED (free).  ER_EUNAVAIL,
 * ER_ETIMEDOUT, ER_EAUTH from the provider; ER_EPROTO when its answer is not
 * n vectors of one dimension. */
int er_embedder_embed(er_embedder *e, const char *const *texts, size_t n, float **out, int *dim,
                      er_error *err);

/* The offline embedding of text into out[0..dim). */
void er_embed_hash(const char *text, float *out, int dim);

#endif
