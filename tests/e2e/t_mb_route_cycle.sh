# Routing, misbehaviour: the steps depend on each other (a cycle): no order
# could run them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
route_case '"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":"a","depends_on":1},{"agent":"email","request":"b","depends_on":0}]}}]' \
  "the steps' dependencies form a cycle (step 1 → step 2 → … → step 1)"
finish
