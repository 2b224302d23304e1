/* driver.c — a small stand-in for libFuzzer, so every fuzz target runs in the
 * normal and sanitizer builds under ctest without clang.
 *
 *   fuzz_<name> [PATH...]      PATH: a corpus directory or a single input file
 *
 * Runs every input once, then ERRAND_FUZZ_ITERATIONS (default 2000)
 * deterministic mutations of them: bit flips, special bytes, insertions,
 * deletions, repeats, splices of other inputs, extreme numbers.  The
 * pseudo-random sequence is fixed (ERRAND_FUZZ_SEED changes it), so a failure
 * in ctest fails the same way on every run.  An input that crashes (a
 * sanitizer report, a failed FUZZ_CHECK, a signal) is saved as
 * ./crash-<target>-<n> and can be replayed by passing it as the only PATH. */
#include "fuzz.h"
#include "errand/buf.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_ITERATIONS 2000
#define DEFAULT_SEED       0x6572726164ULL /* "errand" */
#define MIN_MAX_LEN        4096

/* Weak: present only when a sanitizer runtime is linked in. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

typedef struct input {
    uint8_t *p;
    size_t n;
    char *name;
} input;

/* The input being run, for the crash handlers. */
static const uint8_t *cur_data;
static size_t cur_size;
static char crash_path[512];

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* Async-signal-safe: only open/write/close. */
static void save_crash(void)
{
    int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    for (size_t off = 0; off < cur_size;) {
        ssize_t w = write(fd, cur_data + off, cur_size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    static const char msg[] = "fuzz: the crashing input is saved as ";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    ignored = write(2, crash_path, strlen(crash_path));
    ignored = write(2, "\n", 1);
    (void)ignored;
}

static void on_signal(int sig)
{
    save_crash();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    snprintf(crash_path, sizeof crash_path, "crash-%s-%ld", base ? base + 1 : argv0,
             (long)getpid());
    signal(SIGABRT, on_signal); /* FUZZ_CHECK */
    if (__sanitizer_set_death_callback) {
        __sanitizer_set_death_callback(save_crash); /* the sanitizer reports the rest */
    } else {
        signal(SIGSEGV, on_signal);
        signal(SIGBUS, on_signal);
        signal(SIGFPE, on_signal);
        signal(SIGILL, on_signal);
    }
}

/* An exact-size copy, so that ASan catches a read one byte past the input. */
static void run_one(const uint8_t *p, size_t n)
{
    uint8_t *copy = er_xmalloc(n ? n : 1);
    if (n)
        memcpy(copy, p, n);
    cur_data = copy;
    cur_size = n;
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
}

static void add_file(input **v, size_t *n, const char *path)
{
    er_buf b = ER_BUF_INIT;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz: cannot read %s\n", path);
        exit(2);
    }
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        er_buf_append(&b, chunk, got);
    fclose(f);
    *v = er_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[*n].n = b.len;
    (*v)[*n].p = (uint8_t *)(b.ptr ? b.ptr : er_xstrdup(""));
    (*v)[*n].name = er_xstrdup(path);
    (*n)++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const input *)a)->name, ((const input *)b)->name);
}

/* Every regular file of a directory (sorted, for a fixed order), or the file. */
static void load(input **v, size_t *n, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz: no such corpus: %s\n", path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_file(v, n, path);
        return;
    }
    size_t first = *n;
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = er_xasprintf("%s/%s", path, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            add_file(v, n, p);
        free(p);
    }
    if (d)
        closedir(d);
    qsort(*v + first, *n - first, sizeof **v, by_name);
}

/* ---- mutations ---- */

static const uint8_t special[] = { 0,    0xff, 0x80, 0xc3, 0xef, '\n', '\r', '\t', ' ', ':', '"',
                                   '\'', '{',  '}',  '[',  ']',  ',',  '\\', '=',  '%', '@', '/',
                                   '.',  '?',  '#',  ';',  '-',  '0',  '9',  'e',  'u' };
static const char *const numbers[] = { "0",
                                       "-1",
                                       "65536",
                                       "4294967296",
                                       "9223372036854775807",
                                       "-9223372036854775808",
                                       "99999999999999999999",
                                       "1e308",
                                       "-1e308",
                                       "1e-320",
                                       "0.5",
                                       "nan" };

static void insert(er_buf *b, size_t at, const void *p, size_t n)
{
    er_buf_append(b, p, n); /* grow, then move the tail up */
    memmove(b->ptr + at + n, b->ptr + at, b->len - n - at);
    memcpy(b->ptr + at, p, n);
}

static void erase(er_buf *b, size_t at, size_t n)
{
    memmove(b->ptr + at, b->ptr + at + n, b->len - at - n);
    b->len -= n;
}

static void mutate_once(er_buf *b, const input *seeds, size_t nseeds)
{
    size_t at = below(b->len + 1);
    switch (below(9)) {
    case 0:
        if (b->len)
            b->ptr[below(b->len)] ^= (char)(1u << below(8));
        break;
    case 1:
        if (b->len)
            b->ptr[below(b->len)] = (char)special[below(sizeof special)];
        break;
    case 2: {
        uint8_t c = below(2) ? special[below(sizeof special)] : (uint8_t)rnd();
        for (size_t k = 1 + below(4); k > 0; k--)
            insert(b, at, &c, 1);
        break;
    }
    case 3:
        if (at < b->len)
            erase(b, at, 1 + below(b->len - at < 16 ? b->len - at : 16));
        break;
    case 4:
        if (at < b->len) { /* repeat a piece of the input elsewhere */
            size_t n = 1 + below(b->len - at < 64 ? b->len - at : 64);
            char *piece = er_xmalloc(n);
            memcpy(piece, b->ptr + at, n);
            insert(b, below(b->len + 1), piece, n);
            free(piece);
        }
        break;
    case 5: { /* a piece of another input */
        const input *o = &seeds[below(nseeds)];
        if (o->n) {
            size_t from = below(o->n), n = 1 + below(o->n - from < 128 ? o->n - from : 128);
            insert(b, at, o->p + from, n);
        }
        break;
    }
    case 6: b->len = at; break;
    case 7: {
        const char *num = numbers[below(ER_ARRAY_LEN(numbers))];
        insert(b, at, num, strlen(num));
        break;
    }
    default: /* replace a run of digits with an extreme number */
        for (size_t i = at; i < b->len; i++) {
            if (b->ptr[i] < '0' || b->ptr[i] > '9')
                continue;
            size_t j = i;
            while (j < b->len && b->ptr[j] >= '0' && b->ptr[j] <= '9')
                j++;
            erase(b, i, j - i);
            const char *num = numbers[below(ER_ARRAY_LEN(numbers))];
            insert(b, i, num, strlen(num));
            break;
        }
    }
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    char *end;
    long n = v && *v ? strtol(v, &end, 0) : def;
    return v && *v && *end == '\0' && n >= 0 ? n : def;
}

int main(int argc, char **argv)
{
    input *seeds = NULL;
    size_t nseeds = 0, max_len = MIN_MAX_LEN;
    for (int i = 1; i < argc; i++)
        load(&seeds, &nseeds, argv[i]);
    if (!nseeds) { /* a run over nothing would pass without testing anything */
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE... (no inputs found)\n", argv[0]);
        return 2;
    }
    install_handlers(argv[0]);
    for (size_t i = 0; i < nseeds; i++) {
        run_one(seeds[i].p, seeds[i].n);
        if (seeds[i].n > max_len)
            max_len = seeds[i].n;
    }
    long iterations = env_long("ERRAND_FUZZ_ITERATIONS", DEFAULT_ITERATIONS);
    rng_state = (uint64_t)env_long("ERRAND_FUZZ_SEED", (long)DEFAULT_SEED);
    er_buf b;
    er_buf_init(&b, 0);
    for (long it = 0; it < iterations; it++) {
        const input *s = &seeds[below(nseeds)];
        er_buf_reset(&b);
        er_buf_append(&b, s->p, s->n);
        for (size_t k = 1 + below(4); k > 0; k--)
            mutate_once(&b, seeds, nseeds);
        if (b.len > max_len)
            b.len = max_len;
        run_one((const uint8_t *)(b.ptr ? b.ptr : ""), b.len);
    }
    er_buf_release(&b);
    printf("%s: %zu inputs, %ld mutations: no crash\n", argv[0], nseeds, iterations);
    for (size_t i = 0; i < nseeds; i++) {
        free(seeds[i].p);
        free(seeds[i].name);
    }
    free(seeds);
    return 0;
}
