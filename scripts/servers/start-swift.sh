#!/usr/bin/env bash
# OpenStack Swift (PyPI `swift`) single-node all-in-one with tempauth (v1 auth), on 127.0.0.1 only.
#   usage: start-swift.sh [PROXY_PORT=8080]      start (wipes its state first), print key=value lines, exit 0
#          start-swift.sh stop                    stop the instance whose supervisor pid is in $PIDFILE
# Processes, all bound to 127.0.0.1 and children of one small bash supervisor whose pid goes in $PIDFILE:
#   proxy PROXY_PORT; object, container and account servers, memcached (tempauth keeps its tokens there) and a
#   UDP log sink on free ports picked at start; swift-container-updater (account-level counts catch up in ~2 s).
# Proxy pipeline: tempauth, tempurl, slo, dlo, bulk, formpost, versioning, symlink, quotas (as a stock proxy).
# Env:
#   PIDFILE        pid file of the supervisor (default $SERVERS_STATE/swift.pid); "$PIDFILE.children" lists children
#   SERVERS_STATE  state root (default /tmp/asynccloud-servers); this instance uses $SERVERS_STATE/swift-PORT
#   SERVERS_VENV   virtualenv for the server (default <repo>/.servers-venv, gitignored)
#   SWIFT_VERSION  PyPI version to install (default 2.38.3, the tested one)
#   SWIFT_DEVICES  where object/container/account data goes (default: /dev/shm/asynccloud-swift-PORT when /dev/shm is
#                  a writable tmpfs, else $SERVERS_STATE/swift-PORT/node). Swift fsyncs every object it writes; on
#                  tmpfs that costs nothing (~3x more PUT/s here). Wiped at start, removed by "stop".
# Installs what is missing: swift into the venv (pip), Debian memcached (apt-get; `apt-get update` only when the
# first attempt fails). Recipe adapted from ../shared/servers/start-swift.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE=${SERVERS_STATE:-/tmp/asynccloud-servers}
PIDFILE=${PIDFILE:-$STATE/swift.pid}
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

if [ "${1:-}" = stop ]; then   # TERM the supervisor, wait up to 10 s, then KILL; children are TERMed as well
  [ -f "$PIDFILE" ] || { echo "swift: no pid file $PIDFILE"; exit 0; }
  pid=$(cat "$PIDFILE")
  if alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid"; fi
    echo "swift: stopped pid $pid"
  else
    echo "swift: pid $pid was not running"
  fi
  if [ -f "$PIDFILE.children" ]; then   # only matters when the supervisor had to be KILLed
    for c in $(cat "$PIDFILE.children"); do if alive "$c"; then kill -TERM "$c" 2>/dev/null || true; fi; done
    rm -f "$PIDFILE.children"
  fi
  if [ -f "$PIDFILE.devices" ]; then rm -rf "$(cat "$PIDFILE.devices")"; rm -f "$PIDFILE.devices"; fi
  rm -f "$PIDFILE"
  exit 0
fi

PORT=${1:-8080}
BASE=$STATE/swift-$PORT
VENV=${SERVERS_VENV:-$ROOT/.servers-venv}
SWIFT_VERSION=${SWIFT_VERSION:-2.38.3}
LOG=$BASE/log
mkdir -p "$STATE" "$(dirname "$PIDFILE")"

# ---- install (idempotent) ----
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if [ ! -x "$VENV/bin/swift-proxy-server" ] || ! "$VENV/bin/pip" show -q swift 2>/dev/null \
    || [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("swift"))')" != "$SWIFT_VERSION" ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check "swift==$SWIFT_VERSION" >&2
fi
if ! command -v memcached >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends memcached >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends memcached >/dev/null; }
fi

# ---- refuse to double-start ----
if [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
  echo "swift already running (pid $(cat "$PIDFILE")); stop it first" >&2; exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT on 127.0.0.1 is already in use" >&2; exit 1; fi
# Internal ports: free ones picked now (the proxy port is the caller's; fixed offsets could collide).
read -r OBJ_PORT CONT_PORT ACC_PORT MC_PORT LOG_PORT < <("$VENV/bin/python" - "$PORT" <<'PYEOF'
import socket, sys
socks, ports = [], []
while len(ports) < 5:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; socks.append(s)
    if p != int(sys.argv[1]): ports.append(p)
for s in socks: s.close()
print(*ports)
PYEOF
)

# ---- fresh config, rings and storage ----
if [ -z "${SWIFT_DEVICES:-}" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
    SWIFT_DEVICES=/dev/shm/asynccloud-swift-$PORT
  else
    SWIFT_DEVICES=$BASE/node
  fi
fi
rm -rf "$BASE" "$SWIFT_DEVICES"
mkdir -p "$BASE/etc" "$SWIFT_DEVICES/d1" "$BASE/run" "$LOG"
echo "$SWIFT_DEVICES" > "$PIDFILE.devices"
cat > "$BASE/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = asynccloud-test-suffix
swift_hash_path_prefix = asynccloud-test-prefix

[storage-policy:0]
name = gold
default = yes

[swift-constraints]
EOF
common() {  # [DEFAULT] shared by the servers; $1 = bind port
  cat <<EOF
[DEFAULT]
swift_dir = $BASE/etc
devices = $SWIFT_DEVICES
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $(id -un)
log_level = INFO
recon_cache_path = $BASE/run
# no /dev/log here: log to a unix datagram socket read by a tiny sink (-> $LOG/syslog.log); otherwise swift
# falls back to UDP syslog on localhost:514
log_address = $BASE/run/log.sock
EOF
}
for spec in "object:$OBJ_PORT" "container:$CONT_PORT" "account:$ACC_PORT"; do
  name=${spec%%:*}; port=${spec##*:}
  { common "$port"; cat <<EOF

[pipeline:main]
pipeline = healthcheck $name-server

[app:$name-server]
use = egg:swift#$name

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
    if [ "$name" = container ]; then printf '\n[container-updater]\ninterval = 2\nconcurrency = 1\n'; fi
  } > "$BASE/etc/$name-server.conf"
done
{ common "$PORT"; cat <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl formpost tempauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
# user_<account>_<user> = <key> [group ...]; v1 auth: GET /auth/v1.0 with X-Auth-User: <account>:<user>, X-Auth-Key: <key>
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_test2_tester2 = testing2 .admin
user_test_tester3 = testing3
token_life = 86400

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC_PORT

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
# the access logger ignores log_address and would fall back to UDP localhost:514: send it to the sink
access_log_udp_host = 127.0.0.1
access_log_udp_port = $LOG_PORT
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:formpost]
use = egg:swift#formpost
[filter:copy]
use = egg:swift#copy
[filter:container-quotas]
use = egg:swift#container_quotas
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
allow_object_versioning = true
[filter:symlink]
use = egg:swift#symlink
EOF
} > "$BASE/etc/proxy-server.conf"

# rings: part power 6, 1 replica, one loopback device each; built in one Python process (the CLI costs ~3 s)
"$VENV/bin/python" - "$BASE/etc" "object:$OBJ_PORT" "container:$CONT_PORT" "account:$ACC_PORT" <<'PYEOF'
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for spec in sys.argv[2:]:
    name, port = spec.split(":")
    rb = RingBuilder(6, 1, 1)
    rb.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1",
                "weight": 1, "meta": ""})
    rb.rebalance()
    rb.save(f"{etc}/{name}.builder")
    rb.get_ring().save(f"{etc}/{name}.ring.gz")
PYEOF
for name in object container account; do
  [ -f "$BASE/etc/$name.ring.gz" ] || { echo "ring build failed for $name" >&2; exit 1; }
done

# ---- supervisor: TERM to it stops every child (the swift servers setsid() themselves: no group kill) ----
export VENV BASE LOG MC_PORT LOG_PORT PIDFILE
t0=$(date +%s%N)
setsid bash -c '
  pids=""
  trap "kill \$pids 2>/dev/null; wait; exit 0" TERM INT HUP
  "$VENV/bin/python" -c "
import socket, select, sys
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); u.bind(sys.argv[1])
d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); d.bind((\"127.0.0.1\", int(sys.argv[2])))
with open(sys.argv[3], \"ab\", buffering=0) as f:
    while True:
        for s in select.select([u, d], [], [])[0]: f.write(s.recv(65536).rstrip(b\"\\0\") + b\"\\n\")
" "$BASE/run/log.sock" "$LOG_PORT" "$LOG/syslog.log" > "$LOG/syslog-sink.log" 2>&1 & pids="$pids $!"
  for _ in $(seq 1 50); do [ -S "$BASE/run/log.sock" ] && break; sleep 0.1; done
  memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 64 $([ "$(id -u)" = 0 ] && echo "-u root") > "$LOG/memcached.log" 2>&1 & pids="$pids $!"
  for s in account container object proxy; do   # stderr only gets start-up errors; the rest is in syslog.log
    "$VENV/bin/swift-$s-server" "$BASE/etc/$s-server.conf" > "$LOG/$s.log" 2>&1 & pids="$pids $!"
  done
  # daemons (unlike the WSGI servers) read /etc/swift/swift.conf unless told otherwise: point them at $BASE/etc
  "$VENV/bin/python" -c "import sys; from swift.common import utils; utils.set_swift_dir(sys.argv[1]); \
from swift.container.updater import main; sys.argv = [\"swift-container-updater\", sys.argv[1] + \"/container-server.conf\"]; main()" \
    "$BASE/etc" > "$LOG/container-updater.log" 2>&1 & pids="$pids $!"
  echo "$pids" > "$PIDFILE.children"
  wait
' > "$LOG/supervisor.log" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$PIDFILE"

# ---- wait until the whole chain answers (auth, then an account HEAD, which autocreates the account) ----
deadline=$((SECONDS + 60))
while :; do
  if ! alive "$PID"; then echo "swift supervisor died; logs in $LOG" >&2; tail -n 20 "$LOG"/*.log >&2; exit 1; fi
  hdrs=$(curl -s -m 2 -D - -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "http://127.0.0.1:$PORT/auth/v1.0" 2>/dev/null || true)
  tok=$(printf '%s' "$hdrs" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}')
  surl=$(printf '%s' "$hdrs" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-storage-url"{print $2}')
  if [ -n "$tok" ] && [ -n "$surl" ]; then
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -I -H "X-Auth-Token: $tok" "$surl" || true)
    case $code in 2??) break;; esac
  fi
  if [ $SECONDS -ge $deadline ]; then
    echo "swift did not answer within 60 s; logs in $LOG" >&2; tail -n 20 "$LOG"/*.log >&2; kill "$PID"; exit 1
  fi
  sleep 0.2
done
echo "endpoint=http://127.0.0.1:$PORT"
echo "auth_url=http://127.0.0.1:$PORT/auth/v1.0"
echo "auth_user=test:tester"
echo "auth_key=testing"
echo "storage_url=$surl"
echo "other_users=test2:tester2/testing2 (.admin of AUTH_test2), test:tester3/testing3 (no .admin), admin:admin/admin (.reseller_admin)"
echo "pid=$PID"
echo "pidfile=$PIDFILE"
echo "logs=$LOG"
echo "ready_after_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
