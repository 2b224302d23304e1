# Routing, misbehaviour: the model routes to an agent that does not exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
route_case '"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"astrologer","request":"read the stars"}]}}]' \
  "routing chose an unknown agent 'astrologer'"
finish
