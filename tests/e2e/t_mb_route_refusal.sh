# Routing, misbehaviour: the model refuses (OpenAI's "refusal" field,
# Anthropic's stop_reason "refusal").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
route_case '"misbehave":"refusal","text":"I cannot help with routing that."' \
  'the model refused: "I cannot help with routing that."'
finish
