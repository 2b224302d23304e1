# The TUI's memory view has a graph tab, `g`: `/` names an entity (an alias
# finds it too) and the view lists its relations and theirs as an indented
# tree, nearest first; Enter follows the selected relation to the entity at
# its other end, Backspace goes back the way it came, `m` leaves for the
# memories.  An unknown name says so.  It reads the store's graph directly.
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
keys q
expect_restored "quit" 0
finish
