#!/usr/bin/env bash
# Create the two Secrets the plain manifests expect (random passwords and MongoDB keyfile), once per
# cluster; re-running keeps existing Secrets, because the MongoDB users and Redis data live in the PVCs.
#   k8s/create-secrets.sh [NAMESPACE]      (default namespace: algo-trade)
#   MONGODB_MEMBERS=1 k8s/create-secrets.sh  for a one-member replica set (values-dev.yaml; the Tiltfile does)
set -euo pipefail
NS="${1:-algo-trade}"
MEMBERS="${MONGODB_MEMBERS:-3}"   # mongodb.replicas (3 in the rendered manifests)

random() { LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom 2> /dev/null | head -c "$1" || true; }  # tr ends on SIGPIPE
exists() { kubectl -n "$NS" get secret "$1" > /dev/null 2>&1; }

kubectl get namespace "$NS" > /dev/null 2>&1 || kubectl create namespace "$NS"

if exists algo-trade-mongodb; then
  echo "secret algo-trade-mongodb exists: kept"
else
  app="$(random 32)"
  hosts=""
  for i in $(seq 0 $((MEMBERS - 1))); do
    hosts="${hosts:+$hosts,}algo-trade-mongodb-$i.algo-trade-mongodb-headless:27017"
  done
  kubectl -n "$NS" create secret generic algo-trade-mongodb \
    --from-literal=mongodb-root-password="$(random 32)" \
    --from-literal=mongodb-app-password="$app" \
    --from-literal=mongodb-keyfile="$(random 756)" \
    --from-literal=mongodb-uri="mongodb://algo-trade:$app@$hosts/?replicaSet=rs0&authSource=admin" > /dev/null
  echo "secret algo-trade-mongodb created"
fi

if exists algo-trade-redis; then
  echo "secret algo-trade-redis exists: kept"
else
  password="$(random 32)"
  kubectl -n "$NS" create secret generic algo-trade-redis \
    --from-literal=redis-password="$password" \
    --from-literal=redis-url="redis://:$password@algo-trade-redis:6379/0" > /dev/null
  echo "secret algo-trade-redis created"
fi
