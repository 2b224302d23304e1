#!/usr/bin/python3
"""web.py — the research agent's page extraction, side by side in one run with
Mozilla's Readability (on jsdom, npm; installed here into the build directory,
for the benchmark only) and Debian's python3-readability: word-level F1 of
each one's main text against the hand-marked gold text of the fixture pages
(tests/fixtures/web/bench), extraction throughput in MB of HTML per CPU
second, and how long a cached page takes to come back from er_web_fetch.

    bench/web.py --build BUILD [--repeat N]

Targets (README, Figures): F1 at least the better peer's, throughput at least
20x Readability-on-jsdom, a cached page in 1 ms or less."""
import argparse, collections, json, os, re, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
PAGES = os.path.join(SRC, "tests", "fixtures", "web", "bench")


def words(text):
    return re.findall(r"\w+", text.lower())


def f1(got, gold):
    g, w = collections.Counter(words(got)), collections.Counter(words(gold))
    common = sum((g & w).values())
    if not common:
        return 0.0
    p, r = common / sum(g.values()), common / sum(w.values())
    return 2 * p * r / (p + r)


def debian_packages():
    """python3-readability and npm (with node), installed when run as root like
    bench/api.sh does; otherwise the apt-get line to run."""
    want = ["python3-readability", "npm", "nodejs"]
    missing = [p for p in want if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True
    ).stdout.find("install ok installed") < 0 and not (p != "python3-readability" and shutil.which(p.replace("nodejs", "node")))]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit("web bench needs: sudo apt-get install -y --no-install-recommends " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)


def node_modules(build):
    """@mozilla/readability and jsdom, installed once under the build directory."""
    prefix = os.path.join(build, "bench-node")
    if not os.path.isdir(os.path.join(prefix, "node_modules", "jsdom")):
        os.makedirs(prefix, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        prefix, "@mozilla/readability", "jsdom"], check=True)
    return os.path.join(prefix, "node_modules")


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def start_site(build):
    tmp = tempfile.mkdtemp(prefix="errand-webbench-")
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen([os.path.join(build, "tests", "fake_site"), "--root",
                             os.path.join(SRC, "tests", "fixtures", "web"), "--port", "0",
                             "--port-file", port_file], stdout=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.05)
    return proc, int(open(port_file).read()), tmp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--repeat", type=int, default=10)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    debian_packages()
    out = tempfile.mkdtemp(prefix="errand-webbench-out-")
    runs = {}
    site, port, tmp = start_site(build)
    try:
        d = os.path.join(out, "errand")
        os.makedirs(d)
        runs["errand"] = (run_json([os.path.join(build, "errand_webbench"), PAGES, d,
                                    str(a.repeat * 20),
                                    "http://127.0.0.1:%d/bench/01-news.html" % port]), d)
    finally:
        site.terminate()
        site.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    d = os.path.join(out, "readability-jsdom")
    os.makedirs(d)
    env = dict(os.environ, NODE_PATH=node_modules(build))
    runs["Readability.js (jsdom)"] = (run_json(["node", os.path.join(HERE, "web_readability.js"),
                                                PAGES, d, str(a.repeat)], env), d)
    d = os.path.join(out, "python3-readability")
    os.makedirs(d)
    runs["python3-readability"] = (run_json(["/usr/bin/python3",
                                             os.path.join(HERE, "web_pyreadability.py"),
                                             PAGES, d, str(a.repeat)]), d)
    names = sorted(f[:-5] for f in os.listdir(PAGES) if f.endswith(".html"))
    print("page extraction: %d fixture pages, %d KB of HTML" %
          (len(names), sum(os.path.getsize(os.path.join(PAGES, n + ".html")) for n in names) // 1024))
    print("%-24s %8s %8s %10s" % ("extractor", "F1 mean", "F1 min", "MB/s (CPU)"))
    scores = {}
    for tool, (res, d) in runs.items():
        fs = []
        for n in names:
            gold = open(os.path.join(PAGES, n + ".gold.txt")).read()
            got = open(os.path.join(d, n + ".txt")).read() if os.path.exists(os.path.join(d, n + ".txt")) else ""
            fs.append(f1(got, gold))
        scores[tool] = (sum(fs) / len(fs), fs)
        print("%-24s %8.3f %8.3f %10.2f" % (tool, scores[tool][0], min(fs), res["mb_per_s"]))
    worst = sorted(zip(scores["errand"][1], names))[:3]
    print("errand's lowest F1: " + ", ".join("%s %.3f" % (n, s) for s, n in worst))
    e, js = runs["errand"][0], runs["Readability.js (jsdom)"][0]
    best_peer = max(v[0] for k, v in scores.items() if k != "errand")
    print("F1: errand %.3f vs the better peer %.3f (target: at least equal): %s" %
          (scores["errand"][0], best_peer, "met" if scores["errand"][0] >= best_peer else "NOT MET"))
    ratio = e["mb_per_s"] / js["mb_per_s"]
    print("throughput: %.1fx Readability-on-jsdom (target: 20x): %s" %
          (ratio, "met" if ratio >= 20 else "NOT MET"))
    print("cached page from er_web_fetch: p50 %.1f us, p99 %.1f us (target: 1 ms): %s" %
          (e["cached_p50_us"], e["cached_p99_us"], "met" if e["cached_p50_us"] <= 1000 else "NOT MET"))
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
