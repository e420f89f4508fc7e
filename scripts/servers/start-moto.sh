#!/usr/bin/env bash
# moto in server mode: one endpoint for every AWS service (S3, EC2, Route53, ELB, ELBv2, IAM, ...), loopback only.
#   usage: start-moto.sh [PORT=5000]      start, wait until it answers, print key=value lines, exit 0
#          start-moto.sh stop              TERM the pid in $PIDFILE, KILL after 10 s, remove the pid file
# Env:
#   SERVERS_STATE  where pid and log files go (default /tmp/asynccloud-servers)
#   PIDFILE        default $SERVERS_STATE/moto.pid; a distinct one per instance lets several run at once
#   SERVERS_VENV   the venv moto is installed into (default <repo>/.servers-venv, gitignored)
#   MOTO_VERSION   default 5.2.5 (the version the tests were written against)
#   MOTO_AUTH=1    real SigV4 checking: moto starts with INITIAL_NO_AUTH_ACTION_COUNT=3; those three
#                  unauthenticated calls create IAM user "sdk" with an allow-all policy and an access key,
#                  whose pair is printed. A wrong secret then gets SignatureDoesNotMatch. In this mode do not
#                  POST /moto-api/reset (it deletes the IAM user) and expect presigned URLs to answer 500.
#   Any other MOTO_* variable is passed through to the server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE=${SERVERS_STATE:-/tmp/asynccloud-servers}
PIDFILE=${PIDFILE:-$STATE/moto.pid}
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  [ -f "$PIDFILE" ] || { echo "moto: no pid file $PIDFILE"; exit 0; }
  pid=$(cat "$PIDFILE")
  if alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid"; fi
    echo "moto: stopped pid $pid"
  else
    echo "moto: pid $pid was not running"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

PORT=${1:-5000}
VENV=${SERVERS_VENV:-$ROOT/.servers-venv}
MOTO_VERSION=${MOTO_VERSION:-5.2.5}
LOG=$STATE/moto-$PORT.log
mkdir -p "$STATE" "$(dirname "$PIDFILE")"

# Several start scripts (and parallel test sessions) share the venv: serialise creating and filling it.
# The lock lives inside the venv directory (gitignored); `python3 -m venv` accepts the existing directory.
mkdir -p "$VENV"
(
  flock 9
  if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV" >&2; fi
  if [ ! -x "$VENV/bin/moto_server" ] \
     || [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" != "$MOTO_VERSION" ] \
     || ! "$VENV/bin/python" -c 'import boto3, crc32c, flask, flask_cors' 2>/dev/null; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" boto3 crc32c >&2
  fi
) 9>"$VENV/.install.lock"

if [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
  echo "moto already running (pid $(cat "$PIDFILE")); stop it first" >&2; exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT on 127.0.0.1 is already in use" >&2; exit 1; fi

if [ "${MOTO_AUTH:-0}" = 1 ]; then export INITIAL_NO_AUTH_ACTION_COUNT=3; fi
t0=$(date +%s%N)
setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" > "$LOG" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$PIDFILE"
deadline=$((SECONDS + 60))
until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/moto-api/data.json" 2>/dev/null)" = 200 ]; do
  if ! alive "$PID"; then echo "moto_server exited; log: $LOG" >&2; tail -n 20 "$LOG" >&2; rm -f "$PIDFILE"; exit 1; fi
  if [ $SECONDS -ge $deadline ]; then
    echo "moto_server did not answer in 60 s; log: $LOG" >&2; tail -n 20 "$LOG" >&2
    kill "$PID"; rm -f "$PIDFILE"; exit 1
  fi
  sleep 0.1
done
echo "endpoint=http://127.0.0.1:$PORT"
echo "region=us-east-1"
if [ "${MOTO_AUTH:-0}" = 1 ]; then
  "$VENV/bin/python" - "http://127.0.0.1:$PORT" <<'PY'
import json
import sys

import boto3

iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="sdk")
iam.put_user_policy(UserName="sdk", PolicyName="allow-all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="sdk")["AccessKey"]
print(f"access_key_id={key['AccessKeyId']}\nsecret_access_key={key['SecretAccessKey']}\nauth=sigv4-enforced")
PY
else
  echo "access_key_id=testing"
  echo "secret_access_key=testing"
  echo "auth=not-checked"
fi
echo "account_id=123456789012"
echo "reset=http://127.0.0.1:$PORT/moto-api/reset"
echo "pid=$PID"
echo "pidfile=$PIDFILE"
echo "log=$LOG"
echo "ready_after_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
