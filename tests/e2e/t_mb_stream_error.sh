# Transport, misbehaviour: the stream stops halfway with the provider's error
# event (OpenAI {"error": …}, Anthropic event: error, overloaded_error).  The
# answer is asked for again and the task goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"overloaded once","misbehave":"stream_error","text":"one two three four five six"},
 {"match":"overloaded once","text":"one two three four five six"}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  plain_ask "overloaded once"
  expect_shown_once "$p" "one two three four five six" "overloaded once"
}
each_provider case_fn
finish
