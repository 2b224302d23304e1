# Routing, misbehaviour: the model answers the forced route call with text.
# The supervisor falls back to the offline classifier, says why, and the task
# goes on (mb_lib.sh route_case).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
route_case '"text":"I think the code agent should handle this."' \
  'the model answered with text instead of calling route: "I think the code agent'
finish
