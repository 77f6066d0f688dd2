#!/usr/bin/env bash
# Offline checks of the Dockerfiles, the Helm chart, the plain manifests, compose.yaml and skaffold.yaml:
# no cluster, no Docker engine.
# Run by `./dev test` (which installs the tools into .run/tools first); exits non-zero when any check fails,
# after running all of them. Tools: helm (.run/tools/bin), kubernetes-validate, checkov, hadolint,
# check-jsonschema, yamllint (.run/tools/deploy-venv); promtool (Debian prometheus); node (optional) for the
# MongoDB bootstrap script.
set -uo pipefail
cd "$(dirname "$0")/../.."

TOOLS="${DEPLOY_TOOLS_DIR:-$PWD/.run/tools}"
HELM="$TOOLS/bin/helm"
VENV="$TOOLS/deploy-venv/bin"
CHART=charts/algo-trade
KUBE_VERSION=1.32.0
DOCKERFILES=(services/*/Dockerfile)
VALUES=("" "$CHART/values-dev.yaml" "$CHART/values-production.yaml")

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
failed=()

say() { printf '\033[1m[deploy]\033[0m %s\n' "$*" >&2; }

# check DESCRIPTION COMMAND...: run it, time it, remember a failure and go on.
check() {
  local what="$1" start=$SECONDS
  shift
  if "$@" > "$WORK/out" 2>&1; then
    say "ok   ${what} ($((SECONDS - start)) s)"
  else
    cat "$WORK/out" >&2
    say "FAIL ${what}"
    failed+=("$what")
  fi
}

values_args() { if [ -n "$1" ]; then printf -- '-f\n%s\n' "$1"; fi; }
values_name() { if [ -n "$1" ]; then basename "$1"; else echo values.yaml; fi; }

render() { # render VALUES_FILE OUT [more helm args]: the chart as an install into namespace algo-trade
  local file="$1" out="$2"
  shift 2
  mapfile -t args < <(values_args "$file")
  "$HELM" template algo-trade "$CHART" --namespace algo-trade --kube-version "$KUBE_VERSION" "${args[@]}" "$@" > "$out"
}

lint() {
  mapfile -t args < <(values_args "$1")
  "$HELM" lint --strict "$CHART" "${args[@]}"
}

validate() { # kubernetes-validate reports CRDs (ServiceMonitor) as warnings without failing
  "$VENV/kubernetes-validate" --strict --quiet -k "$KUBE_VERSION" "$1"
}

refs() { # refs FILE SCRIPT: YAML -> JSON (PyYAML of the tools venv) -> a cross-reference check
  "$VENV/python" -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' < "$1" \
    | python3 "$2" .
}

bootstrap_syntax() {
  if command -v node > /dev/null; then
    node --check "$CHART/files/mongodb/bootstrap.js"
  else
    echo "node not found: MongoDB bootstrap.js syntax not checked"
  fi
}

for tool in "$HELM" "$VENV/kubernetes-validate" "$VENV/checkov" "$VENV/hadolint" "$VENV/check-jsonschema" \
  "$VENV/yamllint"; do
  [ -x "$tool" ] || { say "missing $tool: run ./dev test (it installs the deploy tools)"; exit 2; }
done
command -v promtool > /dev/null || { say "missing promtool (Debian package prometheus): run ./dev test"; exit 2; }

say "helm $("$HELM" version --short); chart $CHART; Kubernetes $KUBE_VERSION"
check "values.schema.json is a valid JSON schema" "$VENV/check-jsonschema" --check-metaschema "$CHART/values.schema.json"
check "yamllint (chart values, Chart.yaml, kind config, compose)" "$VENV/yamllint" --strict \
  -d "{extends: relaxed, rules: {line-length: {max: 120}}}" \
  "$CHART/Chart.yaml" "$CHART"/values*.yaml k8s/kind-cluster.yaml k8s/manifests/00-namespace.yaml compose.yaml \
  skaffold.yaml \
  deploy/compose
for file in "${VALUES[@]}"; do
  name="$(values_name "$file")"
  check "helm lint --strict ($name)" lint "$file"
  check "helm template ($name)" render "$file" "$WORK/$name" --api-versions monitoring.coreos.com/v1
  check "kubernetes-validate --strict -k $KUBE_VERSION ($name)" validate "$WORK/$name"
done
check "checkov kubernetes (default, dev, production renders)" "$VENV/checkov" --framework kubernetes \
  --config-file deploy/checks/.checkov.yaml -f "$WORK/values.yaml" -f "$WORK/values-dev.yaml" \
  -f "$WORK/values-production.yaml"
check "checkov dockerfile (${#DOCKERFILES[@]} Dockerfiles)" "$VENV/checkov" --framework dockerfile \
  --config-file deploy/checks/.checkov.yaml "${DOCKERFILES[@]/#/-f}"
check "hadolint (${#DOCKERFILES[@]} Dockerfiles)" "$VENV/hadolint" --no-color "${DOCKERFILES[@]}"
check "k8s/manifests are current (re-render and diff)" env HELM="$HELM" deploy/checks/render-k8s.sh --check
check "MongoDB bootstrap.js parses" bootstrap_syntax
check "compose.yaml against the compose-spec schema" "$VENV/check-jsonschema" --builtin-schema vendor.compose-spec \
  compose.yaml
check "compose.yaml cross-references (depends_on, volumes, builds, ports)" refs compose.yaml \
  deploy/checks/compose_refs.py
check "promtool check config (compose Prometheus)" promtool check config deploy/compose/prometheus.yml
check "skaffold.yaml against deploy/checks/skaffold.schema.json" "$VENV/check-jsonschema" \
  --schemafile deploy/checks/skaffold.schema.json skaffold.yaml
check "skaffold.yaml cross-references (chart, values, Dockerfiles, images)" refs skaffold.yaml \
  deploy/checks/skaffold_refs.py

if [ "${#failed[@]}" -gt 0 ]; then
  say "${#failed[@]} deploy check(s) failed: ${failed[*]}"
  exit 1
fi
say "all deploy checks passed"
