/* price.h — what an LLM request cost, from the price table (llm.prices).
 *
 * The table is the setting's text: entries separated by commas, each
 * MODEL=INPUT/OUTPUT[/CACHED[/CACHE_WRITE]], the prices in US dollars per
 * million tokens ("gpt-4o-mini=0.15/0.60/0.075, claude-sonnet-4-5=3/15/0.3/3.75").
 * CACHED is the price of input tokens read from the provider's prompt cache,
 * CACHE_WRITE of input tokens written to it; either, when absent, is the
 * INPUT price.  A model matches an
 * entry of its exact name, else the longest entry that ends in '*' and is a
 * prefix of it ("gpt-4o*=2.5/10").  Costs are whole micro-dollars: a token
 * count times a price per million tokens is micro-dollars already. */
#ifndef ERRAND_PRICE_H
#define ERRAND_PRICE_H

#include "common.h"
#include "error.h"

/* Checks the table's syntax; ER_EINVAL names the bad entry. */
int er_price_check(const char *table, er_error *err);

/* *micros_out: the cost of input_tokens in (none cached) and output_tokens out with model.
 * ER_ENOTFOUND when the table has no price for the model; ER_EINVAL on a bad
 * table.  A NULL or empty table has no prices. */
int er_price_cost(const char *table, const char *model, int64_t input_tokens, int64_t output_tokens,
                  int64_t *micros_out, er_error *err);

/* The tokens of one request, as er_llm_usage counts them: input is every
 * input token, cached and cache_write the part of it read from and written
 * to the provider's prompt cache. */
typedef struct er_price_tokens {
    int64_t input, output, cached, cache_write;
} er_price_tokens;

/* As er_price_cost, each kind of token at its price. */
int er_price_cost_tokens(const char *table, const char *model, const er_price_tokens *t,
                         int64_t *micros_out, er_error *err);

/* Parses an amount of US dollars ("0.50", "2") into micro-dollars;
 * ER_EINVAL on junk or a negative amount. */
int er_price_parse_money(const char *text, int64_t *micros_out);

/* "$0.0123" into out (at least 32 bytes): enough digits to show small costs. */
void er_price_format(int64_t micros, char *out, size_t outsize);

#endif
