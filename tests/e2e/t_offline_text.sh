# Offline commands print readable text (issue 24, item 14): the result of a
# plain command of the code or data agent is "name: value" lines and aligned
# tables, not JSON; a final --json gives the tool's JSON; a command that takes
# the rest of the line keeps --json as its own word; the help is whole and
# wrapped, and a mistyped command gets its usage, not the whole help again.
# ERRAND_LLM is unset (lib.sh), so the offline brain answers.
. "$(dirname "$0")/lib.sh"
export PATH="/usr/bin:$PATH"

ws="$T/ws"
mkdir -p "$ws/src"
printf 'int main(void) { return 0; }\n' > "$ws/src/main.c"
printf 'hello\n' > "$ws/notes.txt"
printf 'region,revenue\nnorth,100\nsouth,250.5\neast,75\n' > "$ws/sales.csv"

e() { "$ERRAND" -w "$ws" "$@"; }
has_line() { printf '%s\n' "$1" | grep -Eq "$2"; }
not() { ! "$@"; }
no_json() { ! printf '%s\n' "$1" | grep -Eq '^ *[{}]|"[a-z_]+": '; }

# ls: a table of the entries under the single values
out=$(e ask --agent code "ls"); rc=$?
expect_eq "ls: exit 0" "$rc" 0
check "ls: not JSON" no_json "$out"
check "ls: a header" has_line "$out" '^  NAME +TYPE +SIZE$'
check "ls: a file with its size, right-aligned" has_line "$out" '^  notes\.txt +file +6$'
check "ls: a directory" has_line "$out" '^  src +dir$'
check "ls: the count as a line" has_line "$out" '^count: +3$'
out=$(e ask --agent code "ls --json")
expect_contains "ls --json: the tool's JSON" "$out" '"entries": [{'
expect_contains "ls --json: its fields" "$out" '"name": "notes.txt"'

# show: the file text as it is, the rest as lines
out=$(e ask --agent code "show src/main.c")
expect_contains "show: the text" "$out" "int main(void) { return 0; }"
check "show: not JSON" no_json "$out"

# data: load, tables, sql, describe
out=$(e --yes ask --agent data "load sales.csv")
check "load: the table's name" has_line "$out" '^table: +sales$'
check "load: a table of the columns" has_line "$out" '^  revenue +real'
out=$(e ask --agent data "tables")
check "tables: one row per table" has_line "$out" '^  sales +sales\.csv +csv +3 '
out=$(e ask --agent data 'sql "SELECT region, revenue FROM sales ORDER BY revenue DESC"')
check "sql: the header from the columns" has_line "$out" '^  REGION +REVENUE$'
check "sql: a row, numbers right-aligned" has_line "$out" '^  south +250\.5$'
check "sql: rows in order" has_line "$(printf '%s\n' "$out" | grep -A1 south)" '^  north +100$'
check "sql: the columns are not repeated as a line" not has_line "$out" '^columns:'
out=$(e ask --agent data 'sql "SELECT count(*) AS n FROM sales" --json')
expect_contains "sql --json: rows as JSON" "$out" '"rows": [[3]]'
out=$(e ask --agent data "describe sales revenue")
check "describe: the mean" has_line "$out" '^  mean: +141\.833$'

# A command that changes something keeps its words: --json is echo's argument.
out=$(e --yes ask --agent code "run echo one --json")
expect_contains "run: --json went to the command" "$out" "one --json"

# --json of ask: the answer is the text, the raw result is in the steps
json=$(e ask --json --agent code "ls")
expect_contains "ask --json: the answer is the text" "$(jget "$json" answer)" "NAME"
expect_contains "ask --json: the raw result in the steps" "$json" 'notes.txt'

# help: every first sentence whole, wrapped under the descriptions
out=$(e ask --agent data "help")
expect_contains "help: a long sentence is whole" "$(printf '%s' "$out" | tr -s ' \n' '  ')" \
  "Load a CSV, TSV, JSON (array of objects), JSON Lines or .xlsx file of the workspace into"
check "help: nothing cut with ..." not contains "$out" "or..."
long=$(printf '%s\n' "$out" | grep -v OPENAI_BASE_URL | awk 'length > 100' | head -1)
expect_eq "help: no line wider than 100 columns" "$long" ""
# a mistyped command: its usage and a pointer to help, not the help again
out=$(e ask --agent code "show")
expect_contains "typo: what is missing" "$out" "missing PATH; usage: show PATH[:START[-END]]"
expect_contains "typo: where the commands are" "$out" "(help lists the commands; "
check "typo: not the whole help" not contains "$out" "ERRAND_LLM=openai"
finish
