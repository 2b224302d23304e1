# The data agent end to end, against the scripted fake LLM: "plot revenue by
# region from sales.csv" → data_load → data_group → data_chart, and the chart
# files are there and right (the SVG parses and has one bar per region with
# the summed revenue's proportions; the PNG is a PNG).  Then the offline
# commands (load, tables, sql, describe, chart, export) without a model, and
# read-only SQL refusing a DROP.  Runs in both modes: networked, the data
# worker does the work in its workspace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws="$T/ws"
mkdir -p "$ws"
cat > "$ws/sales.csv" <<'CSV'
order,region,revenue,day
1,north,"1,200.50",2024-01-05
2,south,800,2024-01-06
3,north,950.25,2024-02-07
4,east,300,2024-02-08
5,south,1100,2024-03-09
6,west,bad,row,here
CSV

$PY - > "$T/s.json" <<'EOF2'
import json
def c(i, name, **args):
    return {"id": i, "name": name, "arguments": args}
def after(i):
    return '"tool_call_id":"%s"' % i
print(json.dumps({"turns": [
    {"match": after("c1"), "text": "Revenue by region is in charts/revenue.svg."},
    {"match": after("g1"), "tool_calls": [c("c1", "data_chart", kind="bar", table="sales",
        x="region", y="revenue", title="Revenue by region", file="charts/revenue.svg")]},
    {"match": after("l1"), "tool_calls": [c("g1", "data_group", table="sales", by=["region"],
        aggregates=["sum(revenue)"])]},
    {"match": "You are the data agent", "tool_calls": [c("l1", "data_load", path="sales.csv")]},
]}))
EOF2
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" -w "$ws" --yes ask --json --agent data "plot revenue by region from sales.csv" \
  2>"$T/err"); rc=$?
expect_eq "exit 0" "$rc" 0
expect_eq "done" "$(jget "$json" status)" "done"
expect_eq "answer" "$(jget "$json" answer)" "Revenue by region is in charts/revenue.svg."
expect_eq "four model calls" "$(nreq)" 4
expect_contains "the data tools are offered" "$(req 1 body.tools)" '"name":"data_chart"'
expect_eq "l1: five rows loaded" "$(sent l1 rows)" 5
expect_eq "l1: revenue is real" "$(sent l1 columns | $PY -c 'import json,sys; print([c["type"] for c in json.load(sys.stdin) if c["name"]=="revenue"][0])')" real
expect_contains "l1: the bad row, file:line" "$(sent l1 bad)" '"at": "sales.csv:7"'
expect_contains "l1: and why" "$(sent l1 bad)" "5 fields where the header has 4"
expect_eq "g1: sums per region" "$(sent g1 rows)" '[["east", 300], ["north", 2150.75], ["south", 1900]]'
expect_eq "c1: the SVG's path" "$(sent c1 svg)" "charts/revenue.svg"
check "the SVG is there" test -s "$ws/charts/revenue.svg"
check "the PNG is there" test -s "$ws/charts/revenue.png"
svgcheck=$($PY - "$ws/charts/revenue.svg" <<'EOF2'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") == "#4e79a7"]
hs = [float(b.get("height")) for b in bars]
texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
ok = len(bars) == 3 and abs(hs[1] / hs[0] - 2150.75 / 300) < 0.02 and abs(hs[2] / hs[0] - 1900 / 300) < 0.02
print("ok" if ok and "Revenue by region" in texts and "north" in texts else "bad %r %r" % (hs, texts))
EOF2
)
expect_eq "the SVG parses: three bars in proportion, title, labels" "$svgcheck" ok
expect_eq "the PNG is a PNG" "$(head -c 8 "$ws/charts/revenue.png" | od -An -c | tr -d ' \n')" '211PNG\r\n032\n'

# offline: plain commands, no model
unset OPENAI_API_KEY OPENAI_BASE_URL ERRAND_LLM
has_line() { printf '%s\n' "$1" | grep -Eq "$2"; }
export ERRAND_LLM=offline
out=$("$ERRAND" -w "$ws" --yes ask "load sales.csv sales2" 2>"$T/err"); rc=$?
expect_eq "load: exit 0" "$rc" 0
check "load: a table" has_line "$out" '^table: +sales2$'
out=$("$ERRAND" -w "$ws" --yes ask "tables" 2>"$T/err")
# too wide for a table's line: a block of name: value lines per table
check "tables: the first" has_line "$out" '^  table: +sales$'
check "tables: both" has_line "$out" '^  table: +sales2$'
check "tables: their columns" has_line "$out" '^  columns: +order integer, region text, revenue real, day date$'
out=$("$ERRAND" -w "$ws" --yes ask "tables --json" 2>"$T/err")
expect_contains "tables --json: the raw form" "$out" '"table": "sales2"'
out=$("$ERRAND" -w "$ws" --yes ask 'sql "SELECT count(*) AS n FROM sales2"' 2>"$T/err")
check "sql: a column named n" has_line "$out" '^  N$'
check "sql: the count" has_line "$out" '^  5$'
out=$("$ERRAND" -w "$ws" --yes ask "describe sales2" 2>"$T/err")
check "describe: the mean" has_line "$out" '^  mean: +870.15$'
out=$("$ERRAND" -w "$ws" --yes ask "chart pie sales2 region revenue" 2>"$T/err"); rc=$?
expect_eq "chart: exit 0" "$rc" 0
check "chart: the pie's SVG" test -s "$ws/charts/sales2-pie.svg"
out=$("$ERRAND" -w "$ws" --yes ask "export sales2 out/sales.jsonl" 2>"$T/err")
expect_eq "export: five lines" "$(wc -l < "$ws/out/sales.jsonl" | tr -d ' ')" 5
"$ERRAND" -w "$ws" --yes ask 'sql "DROP TABLE sales2"' >"$T/out" 2>"$T/err"; rc=$?
expect_eq "DROP: the task fails" "$rc" 1
expect_contains "DROP: refused, read-only" "$(cat "$T/err")" "read-only"
out=$("$ERRAND" -w "$ws" --yes ask 'sql "SELECT count(*) FROM sales2"' 2>"$T/err")
check "the table is still there" has_line "$out" '^ +5$'
finish
