# Helpers for the scripts that run a local JVM service in the background (kafka.sh,
# registry.sh). The caller sets `name` (its own file name, for messages) and `pidfile`.

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# Asks the process to stop, waits up to 30 s, then kills it.
stop() {
  if ! running; then rm -f "$pidfile"; echo "$name: not running"; return 0; fi
  local pid
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "$name: stopped"; return 0; }
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "$name: killed after 30 s"
}

# Kills the process without warning (a crash), and waits until it is gone.
crash() {
  if ! running; then rm -f "$pidfile"; echo "$name: not running"; return 0; fi
  local pid
  pid=$(cat "$pidfile")
  kill -9 "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  rm -f "$pidfile"
  echo "$name: killed"
}
