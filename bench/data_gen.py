#!/usr/bin/env python3
"""data_gen.py — a deterministic sales CSV of about SIZE megabytes for the data
benchmark (bench/data.sh): order id, ISO date, region, product, quantity,
unit price, revenue, a boolean and a free-text note with quoted commas.

    bench/data_gen.py OUT.csv [SIZE_MB]
"""
import random
import sys

REGIONS = ["north", "south", "east", "west", "central", "coast", "alps", "islands"]
PRODUCTS = ["p%03d" % i for i in range(200)]


def main():
    out = sys.argv[1]
    size = int(float(sys.argv[2]) * 1024 * 1024) if len(sys.argv) > 2 else 200 * 1024 * 1024
    rnd = random.Random(12)
    written = 0
    with open(out, "w", newline="") as f:
        head = "order_id,date,region,product,quantity,price,revenue,returned,note\n"
        f.write(head)
        written += len(head)
        i = 0
        lines = []
        while written < size:
            i += 1
            q = rnd.randint(1, 20)
            p = rnd.randint(100, 99999) / 100
            note = '"late, again"' if i % 17 == 0 else ("ok" if i % 3 else "")
            line = "%d,2024-%02d-%02d,%s,%s,%d,%.2f,%.2f,%s,%s\n" % (
                i, rnd.randint(1, 12), rnd.randint(1, 28), rnd.choice(REGIONS),
                rnd.choice(PRODUCTS), q, p, q * p, "true" if i % 11 == 0 else "false", note)
            lines.append(line)
            written += len(line)
            if len(lines) >= 10000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))


if __name__ == "__main__":
    main()
