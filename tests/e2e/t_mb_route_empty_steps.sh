# Routing, misbehaviour: {"steps": []} — the case issue 16 was filed for (it
# used to fail the task with "routing decision has no steps", exit 1).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
route_case '"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[]}}]' \
  'routing decision has no steps'
finish
