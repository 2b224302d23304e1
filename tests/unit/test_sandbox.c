/* test_sandbox.c — the sandbox and the `run` tool: exit codes and streams,
 * network isolation against a real listener on 127.0.0.1, the timeout, a fork
 * bomb, 100 MB of output, a missing command, the read-only workspace,
 * cancellation, the environment's allow-list, the jail (the host's secrets,
 * HOME, errand's files and other workspaces out of sight; real builds still
 * work), the memory cgroup and the size of /tmp, and the limits-only mode
 * (where daemons that leave the process group are killed all the same, and
 * tasks from errand serve are refused). */
#include "check.h"
#include "tools_util.h"
#include "errand/sandbox.h"
#include "errand/str.h"
#include "errand/cgroup.h"

#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static er_error err;
static bool bwrap;

static cJSON *run(const er_tool_ctx *ctx, const char *cmd, int timeout_s)
{
    cJSON *args = cJSON_CreateObject();
    er_json_add_str(args, "cmd", cmd);
    er_json_add_num(args, "timeout_s", timeout_s);
    char *text = er_json_print(args);
    cJSON_Delete(args);
    cJSON *r = NULL;
    int rc = tu_call(&r, "run", ctx, text, &err);
    if (rc)
        fprintf(stderr, "run %s: %s\n", cmd, err.msg);
    free(text);
    return r;
}

static void test_basics(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, "echo hi; echo oops >&2; pwd; exit 3", 30);
    CHECK(r != NULL);
    CHECK_INT(er_json_num(r, "exit_code", -1), 3);
    char *want = er_xasprintf("hi\n%s\n", ws);
    CHECK_STR(er_json_str(r, "stdout"), want);
    free(want);
    CHECK_STR(er_json_str(r, "stderr"), "oops\n");
    CHECK(!er_json_bool(r, "timed_out", true));
    CHECK_STR(er_json_str(r, "sandbox"), bwrap ? "bwrap" : "rlimits-only");
    cJSON_Delete(r);
    /* Secrets in our environment do not reach the command. */
    setenv("OPENAI_API_KEY", "sk-test-should-not-leak", 1);
    r = run(&ctx, "echo \"${OPENAI_API_KEY:-unset} ${HOME:+home}\"", 30);
    CHECK_STR(er_json_str(r, "stdout"), "unset home\n");
    cJSON_Delete(r);
    unsetenv("OPENAI_API_KEY");
    CHECK(tu_call(&r, "run", &ctx, "{\"cmd\":\"true\",\"timeout_s\":601}", &err) == ER_EINVAL);
    CHECK(tu_call(&r, "run", &ctx, "{\"cmd\":\"\"}", &err) == ER_EINVAL);
}

/* A death by signal is reported as that signal, also through bwrap (which
 * exits 128 + N for it); a plain exit status above 128 of no deadly signal
 * stays an exit status. */
static void test_signal(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, "echo before; kill -SEGV $$", 30);
    CHECK(cJSON_GetObjectItemCaseSensitive(r, "exit_code") == NULL);
    CHECK_INT(er_json_num(r, "signal", 0), SIGSEGV);
    CHECK_STR(er_json_str(r, "signal_name"), "SIGSEGV");
    CHECK_STR(er_json_str(r, "note"), "killed by SIGSEGV");
    CHECK_STR(er_json_str(r, "stdout"), "before\n");
    cJSON_Delete(r);
    r = run(&ctx, "exit 200", 30);
    CHECK_INT(er_json_num(r, "exit_code", -1), 200);
    cJSON_Delete(r);
}

static void test_missing_command(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, "definitely-not-a-command-4711 --flag", 30);
    CHECK_INT(er_json_num(r, "exit_code", -1), 127);
    CHECK(tu_contains(er_json_str(r, "stderr"), "not found"));
    CHECK(tu_contains(er_json_str(r, "note"), "command not found"));
    cJSON_Delete(r);
}

/* A listener on an ephemeral port of 127.0.0.1; returns its fd. */
static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(fd, 8) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Accepts one connection if one is pending; true when there was one. */
static bool accepted(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, 0) <= 0)
        return false;
    int c = accept(fd, NULL, NULL);
    if (c >= 0)
        close(c);
    return c >= 0;
}

static void test_network(const char *ws)
{
    int port;
    int fd = listener(&port);
    char *cmd =
        er_xasprintf("bash -c 'echo hello > /dev/tcp/127.0.0.1/%d' && echo connected", port);
    er_tool_ctx ctx = tu_ctx(ws);
    if (bwrap) {
        cJSON *r = run(&ctx, cmd, 30);
        CHECK(er_json_num(r, "exit_code", 0) != 0);
        CHECK(!tu_contains(er_json_str(r, "stdout"), "connected"));
        CHECK(!er_json_bool(r, "network", true));
        CHECK(!accepted(fd));
        cJSON_Delete(r);
    } else {
        printf("skip: no bwrap, so no network isolation to test\n");
    }
    ctx.network_granted = true;
    cJSON *r = run(&ctx, cmd, 30);
    CHECK_INT(er_json_num(r, "exit_code", -1), 0);
    CHECK_STR(er_json_str(r, "stdout"), "connected\n");
    CHECK(accepted(fd));
    cJSON_Delete(r);
    free(cmd);
    close(fd);
}

static void test_timeout(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, "echo started; while :; do :; done", 1);
    CHECK(er_json_bool(r, "timed_out", false));
    CHECK(cJSON_GetObjectItemCaseSensitive(r, "exit_code") == NULL);
    CHECK_INT(er_json_num(r, "signal", 0), 9);
    CHECK_STR(er_json_str(r, "stdout"), "started\n");
    CHECK(tu_contains(er_json_str(r, "note"), "timeout"));
    cJSON_Delete(r);
}

/* Live (non-zombie) processes whose working directory is dir. */
static int procs_in(const char *dir)
{
    struct stat want;
    if (stat(dir, &want) != 0)
        return -1;
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%s/cwd", de->d_name);
        if (stat(path, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
            n++;
    }
    closedir(d);
    return n;
}

/* procs_in(dir) once the kernel has had up to 5 s to finish the kills. */
static int procs_left(const char *dir)
{
    int left = procs_in(dir);
    for (int i = 0; i < 50 && left > 0; i++) {
        usleep(100 * 1000);
        left = procs_in(dir);
    }
    return left;
}

static void test_fork_bomb(const char *ws)
{
    /* Would grow to 2^14 (16383) shells plus their sleeps if nothing held it.
     * As root without a pids cgroup or bwrap nothing would: keep it small then. */
    bool held = bwrap || getuid() != 0 || access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0;
    tu_write(ws, "bomb.sh",
             "b() { echo . >> spawned; if [ \"$1\" -gt 0 ]; then "
             "b $(($1 - 1)) & b $(($1 - 1)) & fi; sleep 60; }\nb \"$1\"\n");
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, held ? "sh bomb.sh 13 2>/dev/null" : "sh bomb.sh 7 2>/dev/null", 4);
    CHECK(r != NULL);
    CHECK(er_json_bool(r, "timed_out", false));
    cJSON_Delete(r);
    char *spawned = tu_read(ws, "spawned");
    size_t n = spawned ? strlen(spawned) / 2 : 0;
    printf("fork bomb: %zu shells started before the timeout\n", n);
    CHECK(n > 50);
    free(spawned);
    CHECK_INT(procs_left(ws), 0);
    /* And the machine still runs commands. */
    r = run(&ctx, "echo alive", 10);
    CHECK_STR(er_json_str(r, "stdout"), "alive\n");
    cJSON_Delete(r);
}

static void test_background_job(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, "sleep 120 & echo left-behind", 30);
    CHECK_STR(er_json_str(r, "stdout"), "left-behind\n");
    CHECK(!er_json_bool(r, "timed_out", true));
    cJSON_Delete(r);
    CHECK_INT(procs_left(ws), 0);
}

static void test_big_output(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx,
                   "head -c 100000000 /dev/zero | tr '\\0' a; echo; echo tail-marker; "
                   "head -c 3000000 /dev/zero | tr '\\0' e >&2",
                   120);
    CHECK_INT(er_json_num(r, "exit_code", -1), 0);
    CHECK_INT(er_json_num(r, "stdout_bytes", 0), 100000000 + 1 + 12);
    CHECK_INT(er_json_num(r, "stderr_bytes", 0), 3000000);
    const char *out = er_json_str(r, "stdout");
    CHECK(out && strlen(out) < 200 * 1024);
    CHECK(tu_contains(out, "bytes elided"));
    CHECK(out && er_str_ends(out, "tail-marker\n"));
    CHECK(out && er_str_starts(out, "aaaaaaaa"));
    char *text = er_json_print(r);
    CHECK(strlen(text) <= ER_TOOL_OUTPUT_MAX);
    free(text);
    cJSON_Delete(r);
}

static void test_read_only(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    ctx.workspace_read_only = true;
    if (!bwrap) {
        printf("skip: no bwrap, so no read-only bind to test\n");
        return;
    }
    cJSON *r =
        run(&ctx, "touch made-by-run && echo wrote; cat bomb.sh > /dev/null && echo read", 30);
    CHECK_STR(er_json_str(r, "stdout"), "read\n");
    CHECK(!tu_exists(ws, "made-by-run"));
    cJSON_Delete(r);
    /* /usr is read-only and /tmp is private even with a writable workspace. */
    ctx.workspace_read_only = false;
    r = run(&ctx,
            "touch /usr/errand-probe 2>/dev/null || echo ro; echo x > /tmp/errand-private-probe",
            30);
    CHECK_STR(er_json_str(r, "stdout"), "ro\n");
    CHECK(access("/tmp/errand-private-probe", F_OK) != 0);
    cJSON_Delete(r);
}

/* mkdir -p dir/rel's directory, then the file. */
static void put_file(const char *dir, const char *rel, const char *text)
{
    char *cmd = er_xasprintf("mkdir -p \"$(dirname '%s/%s')\"", dir, rel);
    CHECK(system(cmd) == 0);
    free(cmd);
    tu_write(dir, rel, text);
}

/* A server user's `run` read the token-signing key, ~/.ssh and the database
 * when the jail was the whole host read-only: none of them, nor /etc/shadow,
 * another user's workspace or the real HOME, is there now. */
static void test_jail(const char *ws)
{
    if (!bwrap) {
        printf("skip: no bwrap, so no jail to test\n");
        return;
    }
    char *home = tu_hostdir("home");
    char *other = tu_hostdir("other-user");
    put_file(home, ".ssh/id_rsa", "PRIVATE-KEY-0815\n");
    put_file(home, ".local/share/errand/jwt.secret", "SIGNING-KEY-4711\n");
    put_file(home, ".local/share/errand/errand.db", "SQLITE-ROWS-1234\n");
    put_file(home, ".config/errand/config", "openai_api_key = CONFIG-KEY-99\n");
    put_file(other, "theirs.txt", "OTHER-USER-FILE\n");
    char *data = er_xasprintf("%s/.local/share", home), *conf = er_xasprintf("%s/.config", home);
    setenv("XDG_DATA_HOME", data, 1);
    setenv("XDG_CONFIG_HOME", conf, 1);
    char *cmd = er_xasprintf(
        "for f in %s/.ssh/id_rsa %s/errand/jwt.secret %s/errand/errand.db %s/errand/config "
        "/etc/shadow /etc/gshadow %s/theirs.txt; do cat $f 2>/dev/null || echo \"hidden $f\"; "
        "done; "
        "ls /root /home /var/lib /srv /run 2>/dev/null; ls %s 2>/dev/null || echo no-home; "
        "echo \"HOME=$HOME\"; touch \"$HOME/x\" && echo home-writable; "
        "head -1 /etc/passwd | cut -d: -f1; test -s /etc/ssl/certs/ca-certificates.crt && echo tls",
        home, data, data, conf, other, home);
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, cmd, 30);
    const char *out = er_json_str(r, "stdout");
    static const char *const secrets[] = { "PRIVATE-KEY", "SIGNING-KEY", "SQLITE-ROWS",
                                           "CONFIG-KEY",  "OTHER-USER",  "root:" };
    for (size_t i = 0; i < ER_ARRAY_LEN(secrets); i++)
        CHECK(!tu_contains(out, secrets[i]));
    CHECK(tu_contains(out, "hidden /etc/shadow\nhidden /etc/gshadow\n"));
    CHECK(tu_contains(out, "no-home\nHOME=/tmp/home\nhome-writable\nroot\ntls\n"));
    cJSON_Delete(r);
    free(cmd);
    /* Local mode may work in a HOME that holds errand's files: they are
     * covered, read-only, and stay untouched. */
    er_tool_ctx local = tu_ctx(home);
    r = run(&local,
            "cat .local/share/errand/jwt.secret .config/errand/config; "
            "ls -A .local/share/errand; touch .local/share/errand/x || echo ro; "
            "cat .ssh/id_rsa",
            30);
    out = er_json_str(r, "stdout");
    CHECK(!tu_contains(out, "SIGNING-KEY") && !tu_contains(out, "CONFIG-KEY"));
    CHECK(tu_contains(out, "ro\nPRIVATE-KEY-0815")); /* the workspace itself is shown */
    cJSON_Delete(r);
    char *key = tu_read(home, ".local/share/errand/jwt.secret");
    CHECK_STR(key, "SIGNING-KEY-4711\n");
    CHECK(!tu_exists(home, ".local/share/errand/x"));
    free(key);
    unsetenv("XDG_DATA_HOME");
    unsetenv("XDG_CONFIG_HOME");
    tu_rmrf(home);
    tu_rmrf(other);
    free(home);
    free(other);
    free(data);
    free(conf);
}

/* What builds need is all there: make and gcc, python with its standard
 * library, node, git, name resolution. */
static void test_builds(const char *ws)
{
    er_tool_ctx ctx = tu_ctx(ws);
    tu_write(ws, "hello.c",
             "#include <stdio.h>\nint main(void) { puts(\"hello from make\"); "
             "return 0; }\n");
    tu_write(ws, "Makefile", "hello: hello.c\n\tcc -O2 -o $@ $<\n");
    cJSON *r = run(&ctx, "rm -f hello; make -s && ./hello", 60);
    CHECK_INT(er_json_num(r, "exit_code", -1), 0);
    CHECK_STR(er_json_str(r, "stdout"), "hello from make\n");
    cJSON_Delete(r);
    r = run(&ctx, "python3 -c 'import json, ssl, sqlite3, venv; print(json.dumps([1, 2]))'", 60);
    CHECK_STR(er_json_str(r, "stdout"), "[1, 2]\n");
    cJSON_Delete(r);
    char *node = er_sandbox_which("node");
    if (node) {
        r = run(&ctx, "node -e 'console.log(6 * 7)'", 60);
        CHECK_STR(er_json_str(r, "stdout"), "42\n");
        cJSON_Delete(r);
    }
    free(node);
    r = run(&ctx,
            "rm -rf g && mkdir g && cd g && git init -q . && git -c user.name=t "
            "-c user.email=t@t commit -q --allow-empty -m x && git log --format=%s && "
            "getent hosts localhost | head -1 | cut -c1-9",
            60);
    CHECK_STR(er_json_str(r, "stdout"), "x\n127.0.0.1\n");
    cJSON_Delete(r);
}

/* Only PATH, HOME, LANG, LC_*, TERM and TZ reach a command, and what the
 * policy adds; never errand's own secrets. */
static void test_env_allow_list(const char *ws)
{
    static const char *const vars[][2] = {
        { "GITHUB_PAT", "ghp_notforcommands" },
        { "SENTRY_DSN", "https://k@sentry.example/1" },
        { "http_proxy", "http://user:pw@proxy.example:3128" },
        { "MY_TOOL_FLAG", "1" },
        { "OPENAI_API_KEY", "sk-never" },
        { "DATABASE_URL", "postgresql://u:pw@db/x" },
        { "LANG", "C.UTF-8" },
        { "LC_ALL", "C" },
        { "TZ", "UTC" },
        { "TERM", "dumb" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(vars); i++)
        setenv(vars[i][0], vars[i][1], 1);
    er_sandbox_opts o = { .workspace = ws, .timeout_s = 30 };
    const char *argv[] = { "/bin/sh", "-c",
                           "env | cut -d= -f1 | grep -Ev '^(_|PWD|SHLVL)$' | sort | "
                           "tr '\\n' ' '",
                           NULL };
    er_sandbox_result r;
    CHECK_OK(er_sandbox_run(&r, &o, argv, &err));
    const char *want = bwrap ? "GOCACHE HOME LANG LC_ALL PATH TERM TMPDIR TZ XDG_CACHE_HOME "
                               "npm_config_cache "
                             : "HOME LANG LC_ALL PATH TERM TZ ";
    CHECK_STR(r.out.ptr, want);
    er_sandbox_result_release(&r);
    o.pass_env = "MY_TOOL_*, SENTRY_DSN,OPENAI_API_KEY,DATABASE_URL";
    CHECK_OK(er_sandbox_run(&r, &o, argv, &err));
    CHECK(tu_contains(r.out.ptr, " MY_TOOL_FLAG ") && tu_contains(r.out.ptr, " SENTRY_DSN "));
    CHECK(!tu_contains(r.out.ptr, "OPENAI") && !tu_contains(r.out.ptr, "DATABASE"));
    CHECK(!tu_contains(r.out.ptr, "GITHUB") && !tu_contains(r.out.ptr, "proxy"));
    er_sandbox_result_release(&r);
    for (size_t i = 0; i < ER_ARRAY_LEN(vars); i++)
        unsetenv(vars[i][0]);
}

/* Three processes of 160 MiB each stay under RLIMIT_AS one by one; the run's
 * memory cgroup of 256 MiB holds them together.  And /tmp and /dev/shm of
 * the jail have a size. */
static void test_memory_and_tmp(const char *ws)
{
    er_sandbox_opts o = { .workspace = ws, .timeout_s = 60, .memory_total = 256ull << 20 };
    const char *argv[] = { "/bin/sh", "-c",
                           "for i in 1 2 3; do python3 -c \"b = b'x' * (160 << "
                           "20); import time; time.sleep(3); print('kept')\" & done; wait",
                           NULL };
    er_sandbox_result r;
    CHECK_OK(er_sandbox_run(&r, &o, argv, &err));
    if (r.memory_limit == 0) {
        printf("skip: no cgroup for commands here, so no memory limit across processes\n");
    } else {
        size_t kept = 0;
        for (const char *p = r.out.ptr; (p = strstr(p, "kept")) != NULL; p++)
            kept++;
        printf("memory cgroup: %zu of 3 processes of 160 MiB kept under 256 MiB\n", kept);
        CHECK(kept < 3);
        CHECK(r.oom);
        CHECK_INT(r.memory_limit, 256ull << 20);
    }
    er_sandbox_result_release(&r);
    if (!bwrap)
        return;
    er_sandbox_opts t = { .workspace = ws, .timeout_s = 60, .tmp_bytes = 8ull << 20 };
    const char *fill[] = { "/bin/sh", "-c",
                           "for d in /tmp /tmp/home /dev/shm; do "
                           "head -c 16777216 /dev/zero > $d/big 2>/dev/null; echo \"$d $?\"; "
                           "rm -f $d/big; done; touch /etc/x 2>/dev/null || echo etc-ro",
                           NULL };
    CHECK_OK(er_sandbox_run(&r, &t, fill, &err));
    CHECK_STR(r.out.ptr, "/tmp 1\n/tmp/home 1\n/dev/shm 1\netc-ro\n");
    er_sandbox_result_release(&r);
}

/* Descriptors the caller left open (without O_CLOEXEC) do not reach the command. */
static void test_fds(const char *ws)
{
    int fd = open("/dev/null", O_RDONLY);
    CHECK(dup2(fd, 57) == 57);
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, "ls /proc/self/fd | tr '\\n' ' '", 30);
    CHECK_STR(er_json_str(r, "stdout"), "0 1 2 3 ");
    cJSON_Delete(r);
    close(57);
    close(fd);
}

static void test_cancel(const char *ws)
{
    volatile int stop = 1;
    er_tool_ctx ctx = tu_ctx(ws);
    ctx.cancel = &stop;
    cJSON *r;
    CHECK(tu_call(&r, "run", &ctx, "{\"cmd\":\"sleep 30\"}", &err) == ER_ECANCELLED);
}

static void test_limits_only(const char *ws)
{
    er_sandbox_opts o = { .workspace = ws, .timeout_s = 30, .no_bwrap = true };
    const char *argv[] = { "/bin/sh", "-c", "pwd; python3 -c 'bytearray(3 * 1024 ** 3)'", NULL };
    er_sandbox_result r;
    CHECK_OK(er_sandbox_run(&r, &o, argv, &err));
    CHECK_STR(r.sandbox, "rlimits-only");
    char *want = er_xasprintf("%s\n", ws);
    CHECK_STR(r.out.ptr, want);
    free(want);
    CHECK(r.exit_code != 0); /* 3 GiB is over the 2 GiB address-space limit */
    CHECK(tu_contains(r.err.ptr, "MemoryError"));
    er_sandbox_result_release(&r);
    const char *missing[] = { "no-such-binary-4711", NULL };
    CHECK_OK(er_sandbox_run(&r, &o, missing, &err));
    CHECK_INT(r.exit_code, 127);
    CHECK(tu_contains(r.err.ptr, "command not found: no-such-binary-4711"));
    er_sandbox_result_release(&r);
}

/* In a child process, before detection: ERRAND_SANDBOX=none gives the
 * limits-only mode, which says so and will not run commands for a read-only
 * workspace, since nothing would keep them from writing it. */
static int limits_only_mode(void)
{
    setenv("ERRAND_SANDBOX", "none", 1);
    CHECK_STR(er_sandbox_kind(), "rlimits-only");
    char *ws = tu_tempdir("nobwrap");
    er_tool_ctx ctx = tu_ctx(ws);
    cJSON *r = run(&ctx, "echo ok", 30);
    CHECK_STR(er_json_str(r, "sandbox"), "rlimits-only");
    CHECK_STR(er_json_str(r, "stdout"), "ok\n");
    /* Not granted, but nothing took it away: the result must not claim otherwise. */
    CHECK(!ctx.network_granted);
    CHECK(er_json_bool(r, "network", false));
    CHECK(tu_contains(er_json_str(r, "network_note"), "could not be kept off it"));
    cJSON_Delete(r);
    ctx.workspace_read_only = true;
    CHECK(tu_call(&r, "run", &ctx, "{\"cmd\":\"touch x\"}", &err) == ER_EDENIED);
    CHECK(tu_contains(err.msg, "read-only"));
    CHECK(tu_call(&r, "test", &ctx, "{\"cmd\":\"touch x\"}", &err) == ER_EDENIED);
    CHECK(!tu_exists(ws, "x"));
    /* A task from errand serve never runs a command unconfined: run, test,
     * lint and diff refuse, saying why and which setting accepts the risk. */
    ctx.workspace_read_only = false;
    ctx.server = true;
    tu_write(ws, "a.c", "int main(void) { return 0; }\n");
    static const char *const calls[][2] = { { "run", "{\"cmd\":\"touch x\"}" },
                                            { "test", "{\"cmd\":\"touch x\"}" },
                                            { "lint", "{\"path\":\"a.c\"}" } };
    for (size_t i = 0; i < ER_ARRAY_LEN(calls); i++) {
        CHECK_INT(tu_call(&r, calls[i][0], &ctx, calls[i][1], &err), ER_EDENIED);
        CHECK(tu_contains(err.msg, "cannot be confined here (ERRAND_SANDBOX=none)"));
        CHECK(tu_contains(err.msg, "sandbox.fallback = limits"));
    }
    CHECK(!tu_exists(ws, "x"));
    tu_rmrf(ws);
    free(ws);
    int rc = check_done();
    fflush(stdout);
    return rc;
}

/* One command, limits only, checked for what it left behind. */
static void run_daemon(const char *ws, const char *cmd, int timeout_s, int want_exit,
                       int want_signal)
{
    er_sandbox_opts o = { .workspace = ws, .timeout_s = timeout_s, .no_bwrap = true };
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    er_sandbox_result r;
    CHECK_OK(er_sandbox_run(&r, &o, argv, &err));
    CHECK_INT(r.signal, want_signal);
    if (!want_signal)
        CHECK_INT(r.exit_code, want_exit);
    CHECK(tu_contains(r.out.ptr, "started"));
    CHECK_INT(r.timed_out, timeout_s < 5);
    er_sandbox_result_release(&r);
    int left = procs_left(ws);
    if (left)
        fprintf(stderr, "left behind by '%s': %d\n", cmd, left);
    CHECK_INT(left, 0);
}

/* In a child process, as a user with neither bwrap nor a pids cgroup to lean
 * on (nobody, when we are root): commands that leave their process group and
 * session (setsid, a double fork) still die with the run — when it ends and
 * at the timeout — and the exit status or signal is the command's. */

/* The descriptors in an `ls /proc/PID/fd` list that belong to the program:
 * those under the soft RLIMIT_NOFILE.  valgrind keeps its own above the limit
 * it shows the program (`make valgrind`); they are not the reaper's to close. */
static const char *program_fds(const char *list)
{
    static char out[256];
    struct rlimit rl;
    rlim_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : RLIM_INFINITY;
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = list ? list : ""; *p;) {
        char *end;
        unsigned long fd = strtoul(p, &end, 10);
        if (end == p)
            break;
        if (fd < limit && n < sizeof out - 24)
            n += (size_t)snprintf(out + n, sizeof out - n, "%lu ", fd);
        p = end + strspn(end, " ");
    }
    return out;
}
static int daemons_limits_only(void)
{
    if (getuid() == 0)
        CHECK(setgid(65534) == 0 && setuid(65534) == 0);
    /* setuid made us undumpable: /proc/PID/fd of our forks would be root's. */
    CHECK(prctl(PR_SET_DUMPABLE, 1) == 0);
    char *ws = tu_tempdir("daemons");
    CHECK(access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) != 0);
    static const char detach[] = "setsid -f sleep 300 </dev/null >/dev/null 2>&1; "
                                 "(setsid sh -c 'sleep 301 & exec sleep 302' </dev/null "
                                 ">/dev/null 2>&1 &); echo started";
    char *cmd = er_xasprintf("%s; exit 3", detach);
    run_daemon(ws, cmd, 30, 3, 0);
    free(cmd);
    cmd = er_xasprintf("%s; kill -SEGV $$", detach);
    run_daemon(ws, cmd, 30, 0, SIGSEGV);
    free(cmd);
    cmd = er_xasprintf("%s; sleep 100", detach);
    run_daemon(ws, cmd, 2, 0, SIGKILL);
    free(cmd);
    /* The reaper (the command's parent) holds none of our descriptors. */
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0 && dup3(fd, 57, O_CLOEXEC) == 57);
    er_sandbox_opts o = { .workspace = ws, .timeout_s = 30, .no_bwrap = true };
    const char *argv[] = { "/bin/sh", "-c", "ls /proc/$PPID/fd | tr '\\n' ' '", NULL };
    er_sandbox_result r;
    CHECK_OK(er_sandbox_run(&r, &o, argv, &err));
    CHECK_STR(program_fds(r.out.ptr), "0 1 2 ");
    er_sandbox_result_release(&r);
    close(57);
    close(fd);
    tu_rmrf(ws);
    free(ws);
    int rc = check_done();
    fflush(stdout);
    return rc;
}

int main(void)
{
    pid_t user = fork();
    if (user == 0)
        _exit(daemons_limits_only());
    int user_status = 0;
    CHECK(waitpid(user, &user_status, 0) == user);
    CHECK(WIFEXITED(user_status) && WEXITSTATUS(user_status) == 0);
    pid_t child = fork();
    if (child == 0)
        _exit(limits_only_mode());
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    bwrap = strcmp(er_sandbox_kind(), "bwrap") == 0;
    printf("sandbox: %s\n", er_sandbox_kind());
    char *ws = tu_tempdir("sandbox");
    test_basics(ws);
    test_missing_command(ws);
    test_signal(ws);
    test_network(ws);
    test_timeout(ws);
    test_fork_bomb(ws);
    test_background_job(ws);
    test_big_output(ws);
    test_read_only(ws);
    test_fds(ws);
    test_cancel(ws);
    test_limits_only(ws);
    test_jail(ws);
    test_builds(ws);
    test_env_allow_list(ws);
    test_memory_and_tmp(ws);
    tu_rmrf(ws);
    free(ws);
    return check_done();
}
