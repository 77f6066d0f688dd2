#!/bin/sh
# Replica-set bootstrap sidecar of every MongoDB member. On member 0 it runs bootstrap.js until it succeeds
# (initiate the set, create the users, add missing members: idempotent); other members only join.
# /tmp/bootstrap-done makes the sidecar ready; /tmp/bootstrap-heartbeat keeps it live (a hung mongosh is
# killed by `timeout`, a hung loop by the liveness probe).
set -u
trap 'exit 0' TERM INT
beat() { touch /tmp/bootstrap-heartbeat; }
pause() { sleep "$1" & wait $!; }

beat
case "${HOSTNAME:-}" in
  *-0) ;;
  *) touch /tmp/bootstrap-done ;;
esac
while [ ! -e /tmp/bootstrap-done ]; do
  beat
  if timeout 300 mongosh --nodb --quiet --norc --file /scripts/bootstrap.js; then
    touch /tmp/bootstrap-done
    echo "replica set bootstrap done"
  else
    echo "replica set bootstrap not done yet; retrying in 5 s"
    pause 5
  fi
done
while :; do
  beat
  pause 30
done
