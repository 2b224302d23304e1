/* vecgen.h — repeatable test vectors for the vector index's tests: unit
 * vectors uniform on the sphere (normalised gaussians) and unit vectors
 * around gaussian centres, as embeddings of related texts are.  One
 * xorshift64* stream per caller, so a seed gives the same vectors on every
 * machine. */
#ifndef ERRAND_TEST_VECGEN_H
#define ERRAND_TEST_VECGEN_H

#include "errand/vecindex.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct vecgen {
    uint64_t s; /* never 0 */
} vecgen;

static double vecgen_uniform(vecgen *g)
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return ((double)((g->s * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}

static float vecgen_gauss(vecgen *g)
{
    double r = sqrt(-2.0 * log(vecgen_uniform(g)));
    return (float)(r * cos(2.0 * M_PI * vecgen_uniform(g)));
}

/* n unit vectors uniform on the sphere, one after another in v. */
static void vecgen_random(vecgen *g, float *v, size_t n, int dim)
{
    for (size_t i = 0; i < n; i++) {
        for (int d = 0; d < dim; d++)
            v[i * (size_t)dim + (size_t)d] = vecgen_gauss(g);
        er_vec_normalize(v + i * (size_t)dim, dim);
    }
}

/* n unit vectors, each a random one of ncent random centres plus gaussian
 * noise of about spread in length, normalised again. */
static void vecgen_clustered(vecgen *g, float *v, size_t n, int dim, int ncent, float spread)
{
    float *cent = malloc((size_t)ncent * (size_t)dim * sizeof *cent);
    vecgen_random(g, cent, (size_t)ncent, dim);
    for (size_t i = 0; i < n; i++) {
        const float *c = cent + (size_t)(vecgen_uniform(g) * ncent) * (size_t)dim;
        for (int d = 0; d < dim; d++)
            v[i * (size_t)dim + (size_t)d] = c[d] + spread * vecgen_gauss(g) / sqrtf((float)dim);
        er_vec_normalize(v + i * (size_t)dim, dim);
    }
    free(cent);
}

#endif
