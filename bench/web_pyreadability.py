"""web_pyreadability.py — Debian's python3-readability (readability-lxml), a
peer of bench/web.py: the text of every page in DIR (written to OUTDIR) and
the CPU seconds of REPEAT rounds.  Run with /usr/bin/python3.
    /usr/bin/python3 web_pyreadability.py DIR OUTDIR REPEAT"""
import json, logging, os, sys, time
logging.disable(logging.CRITICAL)
from readability import Document
import lxml.html

def extract(html):
    summary = Document(html).summary(html_partial=True)
    return lxml.html.fromstring(summary).text_content() if summary.strip() else ""

d, out, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
pages = sorted(f for f in os.listdir(d) if f.endswith(".html"))
texts = {f: open(os.path.join(d, f), encoding="utf-8").read() for f in pages}
for f in pages:
    with open(os.path.join(out, f[:-5] + ".txt"), "w") as o:
        o.write(extract(texts[f]))
size = sum(len(t.encode()) for t in texts.values())
t0 = time.process_time()
for _ in range(repeat):
    for f in pages:
        extract(texts[f])
secs = time.process_time() - t0
print(json.dumps({"pages": len(pages), "bytes": size * repeat, "seconds": secs,
                  "mb_per_s": size * repeat / secs / 1e6}))
