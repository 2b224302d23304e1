# Routing, misbehaviour: a server that ignores tool_choice (as many local
# OpenAI-compatible servers do): the route call it was forced to make is
# dropped and only its text comes back.  The fake did receive the forced
# choice; errand falls back to the classifier and the task goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
route_case '"misbehave":"ignore_tool_choice","text":"Sure, routing now.","tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"email","request":"x"}]}}]' \
  'the model answered with text instead of calling route: "Sure, routing now."'
# The requests did force the route tool: the server ignored it.
forced=$($PY -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    b=json.loads(l).get("body") or {}
    tc=b.get("tool_choice") if isinstance(b,dict) else None
    if tc and "route" in json.dumps(tc): n+=1
print(n)' "$FAKE_REC")
check "the routing request forced tool_choice route" test "$forced" -ge 1
finish
