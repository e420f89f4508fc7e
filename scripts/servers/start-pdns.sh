#!/usr/bin/env bash
# PowerDNS Authoritative (Debian pdns-server + pdns-backend-sqlite3) with its HTTP API, loopback only.
#   usage: start-pdns.sh [API_PORT=8081]   start, wait until the API answers, print key=value lines, exit 0
#          start-pdns.sh stop               TERM the pid in $PIDFILE, KILL after 10 s, remove the pid file
# Env:
#   SERVERS_STATE  where pid, log and data files go (default /tmp/asynccloud-servers)
#   PIDFILE        default $SERVERS_STATE/pdns.pid; a distinct one per instance lets several run at once
#   PDNS_API_KEY   the API key (default pdns-dev-key)
#   PDNS_DNS_PORT  the port DNS itself answers on (UDP+TCP, 127.0.0.1); default: a free port
# Installs the Debian packages when missing (apt-get; `apt-get update` only when the first attempt fails).
# A fresh sqlite database at every start. No outbound traffic: security-poll-suffix= (no version-check
# query), primary=no / secondary=no (no NOTIFY, no AXFR). Recipe adapted from ../shared/servers/start-pdns.sh.
set -euo pipefail
STATE=${SERVERS_STATE:-/tmp/asynccloud-servers}
PIDFILE=${PIDFILE:-$STATE/pdns.pid}
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  [ -f "$PIDFILE" ] || { echo "pdns: no pid file $PIDFILE"; exit 0; }
  pid=$(cat "$PIDFILE")
  if alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid"; fi
    echo "pdns: stopped pid $pid"
  else
    echo "pdns: pid $pid was not running"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

PORT=${1:-8081}
KEY=${PDNS_API_KEY:-pdns-dev-key}
DIR=$STATE/pdns-$PORT
LOG=$STATE/pdns-$PORT.log
mkdir -p "$STATE" "$(dirname "$PIDFILE")"

packages="pdns-server pdns-backend-sqlite3"
if [ ! -x /usr/sbin/pdns_server ] || ! ls /usr/lib/*/pdns/libgsqlite3backend.so >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  (
    flock 9
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $packages >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $packages >/dev/null; }
  ) 9>"$STATE/.apt.lock"
  # No systemd here, so the package's own service does not start (if it ever did, it would bind :53).
fi
SCHEMA=/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
[ -f "$SCHEMA" ] || { echo "missing $SCHEMA" >&2; exit 1; }

if [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
  echo "pdns already running (pid $(cat "$PIDFILE")); stop it first" >&2; exit 1
fi
DNS_PORT=${PDNS_DNS_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
for p in "$PORT" "$DNS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p on 127.0.0.1 is already in use" >&2; exit 1; fi
done

rm -rf "$DIR"; mkdir -p "$DIR"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.commit()' \
  "$DIR/pdns.sqlite3" "$SCHEMA"
cat > "$DIR/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$DIR/pdns.sqlite3
local-address=127.0.0.1
local-port=$DNS_PORT
api=yes
api-key=$KEY
webserver=yes
webserver-address=127.0.0.1
webserver-port=$PORT
webserver-allow-from=127.0.0.1/32,::1/128
security-poll-suffix=
primary=no
secondary=no
default-soa-content=ns1.@ hostmaster.@ 0 10800 3600 604800 3600
disable-syslog=yes
loglevel=4
CONF
t0=$(date +%s%N)
setsid /usr/sbin/pdns_server --config-dir="$DIR" --socket-dir="$DIR" --daemon=no --guardian=no --write-pid=no \
  > "$LOG" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$PIDFILE"
deadline=$((SECONDS + 30))
until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/api/v1/servers/localhost" 2>/dev/null)" = 200 ]; do
  if ! alive "$PID"; then echo "pdns_server exited; log: $LOG" >&2; tail -n 20 "$LOG" >&2; rm -f "$PIDFILE"; exit 1; fi
  if [ $SECONDS -ge $deadline ]; then
    echo "pdns_server did not answer in 30 s; log: $LOG" >&2; kill "$PID"; rm -f "$PIDFILE"; exit 1
  fi
  sleep 0.1
done
echo "endpoint=http://127.0.0.1:$PORT"
echo "api_key=$KEY"
echo "server_id=localhost"
echo "dns=127.0.0.1:$DNS_PORT"
echo "pid=$PID"
echo "pidfile=$PIDFILE"
echo "log=$LOG"
echo "ready_after_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
