# The TUI's memory view has a graph tab, `g`: `/` names an entity (an alias
# finds it too) and the view lists its relations and theirs as an indented
# tree, nearest first; Enter follows the selected relation to the entity at
# its other end, Backspace goes back the way it came, `m` leaves for the
# memories.  An unknown name says so.  It reads the store's graph directly.
# From the memories tab `g` opens the graph of the selected memory: the first
# entity its text names (by name or alias), `n` / `N` going round the others;
# a memory that names none says so in the status line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"You are the","repeat":true,"text":"Generic answer."}]}
JSON
rel() { "$ERRAND_BIN" memory relate "$@" > /dev/null || fail "memory relate $*"; }
rel Ann works_at Acme
rel Ann likes tea
rel Acme based_in Lisbon
rel Bob manages Ann
"$ERRAND" memory add "The weather was mild all week" > /dev/null || fail "memory add"
"$ERRAND" memory add "Met Bob at Acme's office (Acme, in Lisbon)." > /dev/null || fail "memory add"
tui_begin "$T/s.json"
keys F5
expect_screen "the memory view offers the graph tab" "g: graph"
keys g
expect_screen "g shows the graph tab, asking for an entity" "/ names an entity"
keys /
type_text "Ann"
keys Enter
expect_screen "its relations are listed" "Ann —likes→ tea"
expect_screen "…in both directions" "Bob —manages→ Ann"
expect_screen "…and one step further, indented" "    Acme —based_in→ Lisbon"
expect_screen "…with a count" "relations"
# Select "Ann —works_at→ Acme" and follow it.
row=$(screen | grep "→" | grep -n "works_at" | head -1 | cut -d: -f1)
check "the relation is on screen" test -n "$row"
for _ in $(seq 2 "${row:-1}"); do keys Down; done
keys Enter
expect_screen "Enter follows the relation to its other end" "Entity: Acme"
expect_screen "…and lists that entity's relations" "Acme —based_in→ Lisbon"
keys BSpace
expect_screen "Backspace goes back" "Entity: Ann"
keys /
type_text "Nobody"
keys Enter
expect_screen "an unknown name says so" "No entity has that name"
keys m
expect_screen "m leaves the graph for the memories" "m: conversations"
expect_screen "the memories tab offers the graph of a memory" "g: graph of its entities"
expect_screen "…under the memories, newest first" "Met Bob at Acme"
keys g
expect_screen "g on a memory shows the first entity it names" "Entity: Bob"
expect_screen "…with its relations" "Bob —manages→ Ann"
expect_screen "…saying how many it names and which key goes on" "named in the memory: 1 of 3, n: next"
keys n
expect_screen "n shows the next entity the memory names" "Entity: Acme"
expect_screen "…with its relations" "Acme —based_in→ Lisbon"
expect_screen "…and where it is in the list" "2 of 3"
keys n
expect_screen "…and the one after" "Entity: Lisbon"
keys n
expect_screen "…and round to the first" "Entity: Bob"
keys N
expect_screen "N goes back round" "Entity: Lisbon"
keys m
expect_screen "m goes back to the memories" "m: conversations"
row=$(screen | grep -n "The weather was mild" | head -1 | cut -d: -f1)
sel=$(screen | grep -n "Met Bob at Acme" | head -1 | cut -d: -f1)
check "both memories are listed" test -n "$row" -a -n "$sel"
for _ in $(seq "${sel:-1}" $(( ${row:-2} - 1 ))); do keys Down; done
keys g
expect_screen "a memory that names no entity says so" "That memory names no entity of the graph"
expect_screen "…and the graph asks for a name" "/ names an entity"
keys m
keys q
expect_restored "quit" 0
finish
