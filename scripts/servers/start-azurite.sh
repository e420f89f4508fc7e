#!/usr/bin/env bash
# Azurite (npm `azurite`): the Azure Blob service only, in memory, loopback only, telemetry off.
#   usage: start-azurite.sh [PORT=10000]   start, wait until it answers, print key=value lines, exit 0
#          start-azurite.sh stop            TERM the pid in $PIDFILE, KILL after 10 s, remove the pid file
# Env:
#   SERVERS_STATE    where pid, log and work files go (default /tmp/asynccloud-servers)
#   PIDFILE          default $SERVERS_STATE/azurite.pid; a distinct one per instance lets several run at once
#   SERVERS_NPM      npm prefix Azurite is installed into (default <repo>/.servers-npm, gitignored)
#   AZURITE_VERSION  default 3.35.0 (the newest that runs on Node 20; 3.36+ needs Node >= 22)
# URLs are path-style: http://127.0.0.1:PORT/devstoreaccount1/<container>/<blob>, with the emulator's
# well-known account key. Recipe adapted from ../shared/servers/start-azurite.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE=${SERVERS_STATE:-/tmp/asynccloud-servers}
PIDFILE=${PIDFILE:-$STATE/azurite.pid}
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  [ -f "$PIDFILE" ] || { echo "azurite: no pid file $PIDFILE"; exit 0; }
  pid=$(cat "$PIDFILE")
  if alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid"; fi
    echo "azurite: stopped pid $pid"
  else
    echo "azurite: pid $pid was not running"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

PORT=${1:-10000}
NPM_PREFIX=${SERVERS_NPM:-$ROOT/.servers-npm}
AZURITE_VERSION=${AZURITE_VERSION:-3.35.0}
WORK=$STATE/azurite-$PORT
LOG=$STATE/azurite-$PORT.log
mkdir -p "$STATE" "$(dirname "$PIDFILE")" "$NPM_PREFIX"

BIN=$NPM_PREFIX/node_modules/.bin/azurite-blob
(
  flock 9
  if [ ! -x "$BIN" ]; then
    command -v npm >/dev/null || { echo "npm not found (apt-get install nodejs npm)" >&2; exit 1; }
    npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >&2
  fi
) 9>"$NPM_PREFIX/.install.lock"

if [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
  echo "azurite already running (pid $(cat "$PIDFILE")); stop it first" >&2; exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT on 127.0.0.1 is already in use" >&2; exit 1; fi

rm -rf "$WORK"; mkdir -p "$WORK"
t0=$(date +%s%N)
# cwd = $WORK: Azurite writes its debug files relative to the working directory.
(cd "$WORK" && exec setsid "$BIN" --blobHost 127.0.0.1 --blobPort "$PORT" --inMemoryPersistence \
   --disableTelemetry --skipApiVersionCheck > "$LOG" 2>&1 < /dev/null) &
PID=$!
echo "$PID" > "$PIDFILE"
deadline=$((SECONDS + 60))
# An unauthenticated listing answers 403 once the service is up.
until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/devstoreaccount1?comp=list" 2>/dev/null)" = 403 ]; do
  if ! alive "$PID"; then echo "azurite exited; log: $LOG" >&2; tail -n 20 "$LOG" >&2; rm -f "$PIDFILE"; exit 1; fi
  if [ $SECONDS -ge $deadline ]; then
    echo "azurite did not answer in 60 s; log: $LOG" >&2; kill "$PID"; rm -f "$PIDFILE"; exit 1
  fi
  sleep 0.1
done
echo "endpoint=http://127.0.0.1:$PORT/devstoreaccount1"
echo "account_name=devstoreaccount1"
echo "account_key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
echo "pid=$PID"
echo "pidfile=$PIDFILE"
echo "log=$LOG"
echo "ready_after_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
