{{/* Names, labels, images, secrets and the shared pod/container pieces of every workload. */}}

{{- define "algo-trade.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "algo-trade.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "algo-trade.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of a component: dict "root" . "component" "collector". */}}
{{- define "algo-trade.selectorLabels" -}}
app.kubernetes.io/name: {{ include "algo-trade.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of a component's resources. */}}
{{- define "algo-trade.labels" -}}
helm.sh/chart: {{ include "algo-trade.chart" .root }}
{{ include "algo-trade.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: algo-trade
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "algo-trade.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "algo-trade.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Service image: dict "root" . "name" "collector" "digestKey" "collector". */}}
{{- define "algo-trade.image" -}}
{{- $images := .root.Values.images }}
{{- $tag := default .root.Chart.AppVersion $images.tag }}
{{- $digest := index $images.digests .digestKey }}
{{- $override := index (default dict $images.overrides) .digestKey }}
{{- if $override }}
{{- $override }}
{{- else }}
{{- printf "%s/%s:%s" $images.repositoryPrefix .name $tag }}{{ if $digest }}@{{ $digest }}{{ end }}
{{- end }}
{{- end }}

{{/* Third-party image from {repository, tag, digest}. */}}
{{- define "algo-trade.thirdPartyImage" -}}
{{- printf "%s:%s" .repository .tag }}{{ if .digest }}@{{ .digest }}{{ end }}
{{- end }}

{{/* Every symbol of every shard, comma-separated; fails when a symbol is in two shards. */}}
{{- define "algo-trade.allSymbols" -}}
{{- $seen := list }}
{{- range $i, $shard := .Values.shards }}
{{- range $shard }}
{{- if has . $seen }}
{{- fail (printf "symbol %s is in more than one shard: each market stream needs exactly one collector and one processor" .) }}
{{- end }}
{{- $seen = append $seen . }}
{{- end }}
{{- end }}
{{- join "," $seen }}
{{- end }}

{{- define "algo-trade.mongodb.fullname" -}}{{ include "algo-trade.fullname" . }}-mongodb{{- end }}
{{- define "algo-trade.mongodb.headless" -}}{{ include "algo-trade.fullname" . }}-mongodb-headless{{- end }}
{{- define "algo-trade.redis.fullname" -}}{{ include "algo-trade.fullname" . }}-redis{{- end }}

{{/* host:port of every MongoDB member, comma-separated; short names resolve in the release namespace. */}}
{{- define "algo-trade.mongodb.hosts" -}}
{{- $name := include "algo-trade.mongodb.fullname" . }}
{{- $svc := include "algo-trade.mongodb.headless" . }}
{{- $hosts := list }}
{{- range $i := until (int .Values.mongodb.replicas) }}
{{- $hosts = append $hosts (printf "%s-%d.%s:27017" $name $i $svc) }}
{{- end }}
{{- join "," $hosts }}
{{- end }}

{{- define "algo-trade.mongodb.secretName" -}}
{{- if .Values.mongodb.enabled }}
{{- default (include "algo-trade.mongodb.fullname" .) .Values.mongodb.auth.existingSecret }}
{{- else }}
{{- required "externalMongodb.existingSecret is required when mongodb.enabled is false" .Values.externalMongodb.existingSecret }}
{{- end }}
{{- end }}

{{- define "algo-trade.mongodb.uriKey" -}}
{{- if .Values.mongodb.enabled }}mongodb-uri{{ else }}{{ .Values.externalMongodb.uriKey }}{{ end }}
{{- end }}

{{- define "algo-trade.redis.secretName" -}}
{{- if .Values.redis.enabled }}
{{- default (include "algo-trade.redis.fullname" .) .Values.redis.auth.existingSecret }}
{{- else }}
{{- required "externalRedis.existingSecret is required when redis.enabled is false" .Values.externalRedis.existingSecret }}
{{- end }}
{{- end }}

{{- define "algo-trade.redis.urlKey" -}}
{{- if .Values.redis.enabled }}redis-url{{ else }}{{ .Values.externalRedis.urlKey }}{{ end }}
{{- end }}

{{/* Pod-level security: non-root numeric user, RuntimeDefault seccomp, no token. */}}
{{- define "algo-trade.podSecurity" -}}
serviceAccountName: {{ include "algo-trade.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.images.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Container-level security: read-only root, no privilege escalation, no capabilities. */}}
{{- define "algo-trade.containerSecurity" -}}
{{- include "algo-trade.containerSecurityOf" (dict "readOnly" true) }}
{{- end }}

{{/* The same for a service container: its root filesystem is writable only for Tilt's live update
(development.writableRootFilesystem, never in production). */}}
{{- define "algo-trade.serviceContainerSecurity" -}}
{{- include "algo-trade.containerSecurityOf" (dict "readOnly" (not .Values.development.writableRootFilesystem)) }}
{{- end }}

{{- define "algo-trade.containerSecurityOf" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  readOnlyRootFilesystem: {{ .readOnly }}
  allowPrivilegeEscalation: false
  privileged: false
  capabilities:
    drop: [ALL]
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{/* Zone and node spread of one component: dict "root" . "component" "trader" "extra" (dict of labels). */}}
{{- define "algo-trade.topologySpread" -}}
{{- if .root.Values.topologySpread.enabled -}}
topologySpreadConstraints:
{{- range list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
  - maxSkew: 1
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $.root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "algo-trade.selectorLabels" $ | nindent 8 }}
{{- end }}
{{- end }}
{{- end }}

{{/* nodeSelector / tolerations / affinity of a component's values. */}}
{{- define "algo-trade.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Env of a pipeline service's secrets and identity: dict "root" . "prefix" "COLLECTOR". */}}
{{- define "algo-trade.serviceSecretEnv" -}}
- name: {{ .prefix }}_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "algo-trade.redis.secretName" .root }}
      key: {{ include "algo-trade.redis.urlKey" .root }}
- name: {{ .prefix }}_MONGO_URI
  valueFrom:
    secretKeyRef:
      name: {{ include "algo-trade.mongodb.secretName" .root }}
      key: {{ include "algo-trade.mongodb.uriKey" .root }}
- name: {{ .prefix }}_CONSUMER_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}

{{/* The prometheus.io annotations of a service pod: the HTTP port. */}}
{{- define "algo-trade.scrapeAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{/* HTTP probes of a pipeline service on its port: dict "port" 8080 "live" "/healthcheck/live" "ready" "/healthcheck". */}}
{{- define "algo-trade.httpProbes" -}}
livenessProbe:
  httpGet: {path: {{ .live }}, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: {{ .ready }}, port: {{ .port }}}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- with .startup }}
startupProbe:
  httpGet: {path: {{ $.ready }}, port: {{ $.port }}}
  periodSeconds: {{ .periodSeconds }}
  timeoutSeconds: 3
  failureThreshold: {{ .failureThreshold }}
{{- end }}
{{- end }}
