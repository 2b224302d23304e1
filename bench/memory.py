#!/usr/bin/python3
"""memory.py — shared memory's vector search side by side with FAISS and hnswlib.

    bench/memory.py --build BUILD [--n N] [--dim D] [--queries Q]

Runs build/errand_memory_bench, which prints errand's figures (HNSW insert
rate, exact scan and HNSW latency with recall@10, peak RSS) and dumps its
vectors; then gives the very same vectors to Debian's python3-faiss
(IndexFlatIP: the exact scan) and python3-hnswlib (same M and
ef_construction), one thread each, and prints theirs.  Recall is against
errand's exact scan answers recomputed here with FAISS (exact too).
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

K = 10


def pct(lat, p):
    lat = sorted(lat)
    return lat[min(len(lat) - 1, int(len(lat) * p))] * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--efc", type=int, default=200)
    a = ap.parse_args()
    try:
        import faiss
        import hnswlib
        import numpy as np
    except ImportError as e:
        sys.exit(f"memory.py: {e.name} is missing: scripts/deps.sh bench installs "
                 "python3-faiss and python3-hnswlib")
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "vectors.f32")
        subprocess.run([os.path.join(a.build, "errand_memory_bench"), "--n", str(a.n),
                        "--dim", str(a.dim), "--queries", str(a.queries), "--m", str(a.m),
                        "--efc", str(a.efc), "--dump", dump], check=True)
        allv = np.fromfile(dump, dtype=np.float32).reshape(a.n + a.queries, a.dim)
    data, queries = allv[:a.n], allv[a.n:]
    faiss.omp_set_num_threads(1)
    print(f"FAISS {faiss.__version__} and hnswlib, same vectors, one thread")
    flat = faiss.IndexFlatIP(a.dim)
    flat.add(data)
    lat, truth = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = flat.search(q.reshape(1, -1), K)
        lat.append(time.perf_counter() - t)
        truth.append(set(ids[0].tolist()))
    print(f"  FAISS IndexFlatIP (exact)    p50 {pct(lat, .5):8.3f} ms   p99 {pct(lat, .99):8.3f} ms")
    h = hnswlib.Index(space="ip", dim=a.dim)
    h.init_index(max_elements=a.n, M=a.m, ef_construction=a.efc, random_seed=1)
    h.set_num_threads(1)
    t, c = time.perf_counter(), time.process_time()
    h.add_items(data, np.arange(a.n), num_threads=1)
    build, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"  hnswlib insert               {a.n / build:8.0f} vectors/s ({build:.1f} s), "
          f"{a.n / cpu:.0f} vectors/CPU-s ({cpu:.1f} s)")
    for ef in (32, 64, 128, 256):
        h.set_ef(max(ef, K))
        lat, found = [], 0
        for q, tr in zip(queries, truth):
            t = time.perf_counter()
            ids, _ = h.knn_query(q.reshape(1, -1), k=K)
            lat.append(time.perf_counter() - t)
            found += len(tr & set(ids[0].tolist()))
        what = f"hnswlib ef {ef} (recall {found / (K * len(queries)):.3f})"
        print(f"  {what:<28} p50 {pct(lat, .5):8.3f} ms   p99 {pct(lat, .99):8.3f} ms")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS (python, all three) {rss:8.0f} MB")


if __name__ == "__main__":
    main()
