# A backend that is unreachable at start: a clear one-line error naming it and
# exit status 3, for the client and for a worker; nothing is left half-done.
. "$(dirname "$0")/lib.sh"
net_only
closed=postgresql://errand:errand@127.0.0.1:1/errand
for cmd in "ask --agent code hi" "worker code" "task list" "migrate"; do
  out=$(DATABASE_URL=$closed "$ERRAND_BIN" $cmd 2>&1 </dev/null); rc=$?
  expect_eq "PostgreSQL down, $cmd: exit 3" "$rc" 3
  expect_eq "PostgreSQL down, $cmd: one line" "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 1
  expect_contains "PostgreSQL down, $cmd: says so" "$out" \
    "cannot connect to PostgreSQL at '127.0.0.1:1'"
done
out=$(DATABASE_URL=$closed "$ERRAND_BIN" doctor 2>&1); rc=$?
expect_eq "PostgreSQL down, doctor: exit 3" "$rc" 3
expect_contains "PostgreSQL down, doctor: store FAIL" "$out" "store  FAIL  cannot connect to PostgreSQL"
expect_contains "PostgreSQL down, doctor: the bus is still checked" "$out" "bus    OK"
for cmd in "ask --agent code hi" "worker code"; do
  out=$(RABBITMQ_URL=amqp://guest:guest@127.0.0.1:1/ "$ERRAND_BIN" $cmd 2>&1 </dev/null); rc=$?
  expect_eq "RabbitMQ down, $cmd: exit 3" "$rc" 3
  expect_contains "RabbitMQ down, $cmd: says so" "$out" "cannot connect to RabbitMQ at '127.0.0.1:1'"
  out=$(REDIS_URL=redis://127.0.0.1:1/0 "$ERRAND_BIN" $cmd 2>&1 </dev/null); rc=$?
  expect_eq "Redis down, $cmd: exit 3" "$rc" 3
  expect_contains "Redis down, $cmd: says so" "$out" "cannot connect to Redis at '127.0.0.1:1'"
done
expect_eq "no task was stored" "$("$ERRAND_BIN" task list --json)" "[]"
expect_eq "nothing was queued" "$("$BUS_CTL" "$RABBITMQ_URL" info supervisor.tasks)" "0 0"
finish
