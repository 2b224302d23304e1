# Routing, misbehaviour: the route call's arguments are not JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
route_case '"tool_calls":[{"id":"r1","name":"route","arguments":"{\"steps\": [{\"agent\": \"code\""}]' \
  'the route arguments are not JSON'
finish
