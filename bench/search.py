#!/usr/bin/env python3
"""search.py — the code agent's grep against ripgrep and GNU grep on one large
real tree (Debian's linux-source unpacked: about 1.3 GB, 80k files), in one
run, for the searches of issue 20: a literal, a regex with a literal prefix, a
case-insensitive word, a pattern with no literal, and a files-with-matches
search.

    bench/search.py --build build [--tree DIR] [--repeat 3]

errand runs through bench/grepbench.c (the grep tool in process, counting
every match: output_mode count, no cap); ripgrep as `rg -c --no-require-git`
(so that it reads the tree's .gitignore files as errand does outside a git
repository); GNU grep as `grep -rcE` (which reads everything).  Each figure
is the median wall time (and median CPU time, user + system of all threads)
of --repeat runs after one warm-up, with a warm page cache, the three tools
taking turns run by run so that a change in the machine's load falls on all
of them; the load average is printed before and after, and the matched-line
totals so the three can be seen to agree.  --threads sets errand's
agent.grep_threads (ERRAND_GREP_THREADS; default: one per core).
--baseline DIR runs another build's errand_grepbench (an earlier commit) in
the same rounds and prints it on a line of its own.  --only TEXT runs the
searches whose name holds TEXT ("files", "literal").
"""
import argparse
import glob
import json
import os
import resource
import shutil
import subprocess
import sys
import time

SEARCHES = [
    # name, pattern, errand options, rg flags, grep flags
    ("literal", "EXPORT_SYMBOL_GPL", {}, [], []),
    ("regex, literal prefix", r"spin_lock_\w+\(", {}, [], ["-P"]),
    ("case-insensitive word", r"\bmutex\b", {"ignore_case": True}, ["-i"], ["-i", "-P"]),
    ("no literal", r"\w+_\d+_\w+\(", {}, [], ["-P"]),
    ("files with matches", "MODULE_LICENSE", {"output_mode": "files_with_matches"}, ["-l"],
     ["-l"]),
]


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w = time.time()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.time() - w, cpu, out


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def medians(cmds, repeat):
    """Median wall and CPU seconds of each command over repeat rounds after
    a warm-up; in each round every command runs once, in turn."""
    for c in cmds:
        timed(c)
    runs = [[] for _ in cmds]
    for _ in range(repeat):
        for i, c in enumerate(cmds):
            runs[i].append(timed(c))
    return [(median([r[0] for r in rs]), median([r[1] for r in rs]), rs[-1][2]) for rs in runs]


def load():
    return "load average %.1f %.1f %.1f" % os.getloadavg()


def total(out, files_mode):
    lines = out.decode("utf-8", "replace").splitlines()
    if files_mode:
        return len(lines)
    return sum(int(l.rsplit(":", 1)[1]) for l in lines if ":" in l)


def find_tree():
    for d in sorted(glob.glob("/var/tmp/errand-bench/linux-source-*") +
                    glob.glob("/usr/src/linux-source-*")):
        if os.path.isdir(d):
            return d
    tars = sorted(glob.glob("/usr/src/linux-source-*.tar.xz"))
    return tars[-1] if tars else None


def prepare(tree):
    """Debian's linux-source ends its top .gitignore with "/*" (the packaged
    tree is not meant to be edited): that rule would leave every file out for
    errand and ripgrep alike.  It is dropped; the kernel's own rules stay."""
    top = os.path.join(tree, ".gitignore")
    if not os.path.exists(top):
        return
    with open(top) as f:
        lines = f.read().split("\n")
    kept = [l for l in lines if l.strip() != "/*"]
    if kept != lines:
        with open(top, "w") as f:
            f.write("\n".join(kept))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--tree", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--baseline", default=None)
    ap.add_argument("--only", default=None,
                    help="run only the searches whose name holds this text (e.g. files)")
    a = ap.parse_args()
    tree = a.tree or find_tree()
    if tree and tree.endswith(".tar.xz"):
        # Not under the build directory: that lies in errand's own git
        # repository, whose .gitignore leaves it out (both tools would skip it all).
        dest = "/var/tmp/errand-bench"
        os.makedirs(dest, exist_ok=True)
        name = os.path.basename(tree)[:-len(".tar.xz")]
        if not os.path.isdir(os.path.join(dest, name)):
            print("unpacking %s ..." % tree, flush=True)
            subprocess.run(["tar", "-xJf", tree, "-C", dest], check=True)
        tree = os.path.join(dest, name)
    prepare(tree)
    if not tree or not os.path.isdir(tree):
        sys.exit("search.py: no linux-source tree; apt-get install linux-source (scripts/deps.sh bench)")
    bench = os.path.join(a.build, "errand_grepbench")
    rg, gnu = shutil.which("rg"), shutil.which("grep")
    if a.threads is not None:
        os.environ["ERRAND_GREP_THREADS"] = str(a.threads)
    print("search: %s, median of %d, %s, errand threads: %s; %s" % (
        tree, a.repeat, "2 cores" if os.cpu_count() == 2 else "%d cores" % os.cpu_count(),
        os.environ.get("ERRAND_GREP_THREADS", "default"), load()))
    print("wall seconds (CPU seconds, user + system, of all threads)")
    print("%-22s %14s %14s %14s %6s %6s  %s" % ("search", "errand", "ripgrep", "GNU grep",
                                              "vs rg", "vs gr", "matches e/rg/grep"))
    for name, pat, opts, rgf, gf in SEARCHES:
        if a.only and a.only not in name:
            continue
        files_mode = opts.get("output_mode") == "files_with_matches"
        args = {"pattern": pat, "output_mode": "count", "max_results": 100000}
        args.update(opts)
        e_cmd = [bench, tree, json.dumps(args), "1"]
        r_cmd = ([rg, "--no-require-git", "-c"] + rgf + [pat, tree] if not files_mode
                 else [rg, "--no-require-git"] + rgf + [pat, tree])
        g_cmd = ([gnu, "-r"] + (["-c"] if not files_mode else []) + (gf if gf else ["-E"]) +
                 [pat, tree])
        cmds = [e_cmd, r_cmd, g_cmd]
        if a.baseline:
            cmds.append([os.path.join(a.baseline, "errand_grepbench")] + e_cmd[1:])
        res = medians(cmds, a.repeat)
        (et, ec, eout), (rt, rc, rout), (gt, gc, gout) = res[:3]
        r = json.loads(eout)
        e_total = r["files_matched"] if files_mode else r["count"]
        print("%-22s %6.2f (%5.2f) %6.2f (%5.2f) %6.2f (%5.2f) %5.2fx %5.2fx  %d/%d/%d" % (
            name, et, ec, rt, rc, gt, gc, et / rt, et / gt, e_total, total(rout, files_mode),
            total(gout, files_mode)), flush=True)
        if a.baseline:
            bt, bc, _ = res[3]
            print("%-22s %6.2f (%5.2f) %30s %5.2fx %5.2fx  (--baseline)" % (
                "", bt, bc, "", bt / rt, bt / gt), flush=True)
    print(load())


if __name__ == "__main__":
    main()
