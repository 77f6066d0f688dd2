#!/usr/bin/env bash
# Offline checks of the Dockerfile, the Helm chart (and its custom resources), the plain manifests, the alert
# rules and their unit tests, the Grafana dashboard's PromQL, compose.yaml, skaffold.yaml and the Tiltfile:
# no cluster, no Docker engine.
# Run by `./dev test` (which installs the tools into .run/tools first); exits non-zero when any check fails,
# after running all of them. Tools: helm (.run/tools/bin), kubernetes-validate, checkov, hadolint,
# check-jsonschema, yamllint, starlark-pyo3, cloudcoil CRD models (.run/tools/deploy-venv); promtool (Debian
# prometheus); node (optional) for the MongoDB bootstrap script.
set -uo pipefail
cd "$(dirname "$0")/../.."

TOOLS="${DEPLOY_TOOLS_DIR:-$PWD/.run/tools}"
HELM="$TOOLS/bin/helm"
VENV="$TOOLS/deploy-venv/bin"
CHART=charts/algo-trade
KUBE_VERSION=1.32.0
DOCKERFILES=(Dockerfile)
VALUES=("" "$CHART/values-dev.yaml" "$CHART/values-production.yaml")
ALERTS="$CHART/files/prometheus/alerts.yaml"
DASHBOARDS=("$CHART"/files/dashboards/*.json)
# Custom resources render only where their API exists (ServiceMonitor, PrometheusRule) or when enabled (KEDA).
CRD_APIS=(--api-versions monitoring.coreos.com/v1 --api-versions keda.sh/v1alpha1)

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

rendered_rules() { # the groups of every rendered PrometheusRule as one rule file -> promtool check rules
  "$VENV/python" -c 'import json, sys, yaml
docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d and d["kind"] == "PrometheusRule"]
assert docs, "no PrometheusRule rendered"
json.dump({"groups": [g for d in docs for g in d["spec"]["groups"]]}, sys.stdout)' "$@" > "$WORK/rendered-rules.yaml"
  promtool check rules "$WORK/rendered-rules.yaml"
}

dashboard_promql() { # every dashboard expression as a recording rule -> promtool check rules
  python3 deploy/checks/dashboard_rules.py "${DASHBOARDS[@]}" > "$WORK/dashboard-rules.yaml"
  promtool check rules "$WORK/dashboard-rules.yaml"
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
  skaffold.yaml "$ALERTS" deploy/checks/alerts*_test.yaml deploy/compose
for file in "${VALUES[@]}"; do
  name="$(values_name "$file")"
  check "helm lint --strict ($name)" lint "$file"
  check "helm template ($name)" render "$file" "$WORK/$name" "${CRD_APIS[@]}"
  check "kubernetes-validate --strict -k $KUBE_VERSION ($name)" validate "$WORK/$name"
done
check "helm template (values-production.yaml, trader.keda.enabled)" render "$CHART/values-production.yaml" \
  "$WORK/keda.yaml" "${CRD_APIS[@]}" --set trader.keda.enabled=true
check "kubernetes-validate --strict -k $KUBE_VERSION (KEDA render)" validate "$WORK/keda.yaml"
check "custom resources against their CRD models (ServiceMonitor, PrometheusRule, ScaledObject)" \
  "$VENV/python" deploy/checks/crds.py --expect ServiceMonitor,PrometheusRule,ScaledObject,TriggerAuthentication \
  "$WORK/values.yaml" "$WORK/values-dev.yaml" "$WORK/values-production.yaml" "$WORK/keda.yaml"
check "promtool check rules ($ALERTS)" promtool check rules "$ALERTS"
check "promtool test rules (deploy/checks/alerts*_test.yaml)" promtool test rules deploy/checks/alerts*_test.yaml
check "promtool check rules (rendered PrometheusRule)" rendered_rules "$WORK/values.yaml"
check "promtool check rules (every PromQL expression of ${DASHBOARDS[*]})" dashboard_promql
check "checkov kubernetes (default, dev, production renders)" "$VENV/checkov" --framework kubernetes \
  --config-file deploy/checks/.checkov.yaml -f "$WORK/values.yaml" -f "$WORK/values-dev.yaml" \
  -f "$WORK/values-production.yaml"
check "checkov dockerfile (${DOCKERFILES[*]})" "$VENV/checkov" --framework dockerfile \
  --config-file deploy/checks/.checkov.yaml "${DOCKERFILES[@]/#/-f}"
check "hadolint (${DOCKERFILES[*]})" "$VENV/hadolint" --no-color "${DOCKERFILES[@]}"
check "k8s/manifests are current (re-render and diff)" env HELM="$HELM" deploy/checks/render-k8s.sh --check
check "MongoDB bootstrap.js parses" bootstrap_syntax
check "compose.yaml against the compose-spec schema" "$VENV/check-jsonschema" --builtin-schema vendor.compose-spec \
  compose.yaml
check "compose.yaml cross-references (depends_on, volumes, builds, ports)" refs compose.yaml \
  deploy/checks/compose_refs.py
check "promtool check config (compose Prometheus)" promtool check config deploy/compose/prometheus.yml
check "skaffold.yaml against deploy/checks/skaffold.schema.json" "$VENV/check-jsonschema" \
  --schemafile deploy/checks/skaffold.schema.json skaffold.yaml
check "skaffold.yaml cross-references (chart, values, Dockerfile, build args, images)" refs skaffold.yaml \
  deploy/checks/skaffold_refs.py
check "Tiltfile under Starlark with stub builtins (builds, chart, resources, port forwards)" env HELM="$HELM" \
  "$VENV/python" deploy/checks/tiltfile.py

if [ "${#failed[@]}" -gt 0 ]; then
  say "${#failed[@]} deploy check(s) failed: ${failed[*]}"
  exit 1
fi
say "all deploy checks passed"
