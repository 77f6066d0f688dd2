{{/*
One pipeline workload (collector shard, processor shard, trader, simulator), so all four share the same pod
shape: security, /tmp emptyDir, probes on the port the service listens on, config from a ConfigMap,
secrets from Secrets. Arguments (dict):
  root, kind (StatefulSet | Deployment), name, component, shard ("" or the index), replicas (nil: HPA owns it),
  values (the component's values), prefix (COLLECTOR), port, portEnv (COLLECTOR_HTTP_PORT), image, digestKey, configMap,
  env (YAML list of more env entries), secretEnv (bool), probes (dict for algo-trade.httpProbes),
  serviceName (StatefulSet), strategy (YAML, Deployment), noMetrics (no /metrics to scrape).
*/}}
{{- define "algo-trade.workload" -}}
{{- $root := .root }}
{{- $labels := dict "root" $root "component" .component }}
{{- $grace := add (int $root.Values.common.shutdownGraceSeconds) 20 }}
apiVersion: apps/v1
kind: {{ .kind }}
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "algo-trade.labels" $labels | nindent 4 }}
    {{- if ne .shard "" }}
    algo-trade/shard: {{ .shard | quote }}
    {{- end }}
spec:
  {{- if not (kindIs "invalid" .replicas) }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- if eq .kind "StatefulSet" }}
  serviceName: {{ .serviceName }}
  podManagementPolicy: OrderedReady
  updateStrategy:
    type: RollingUpdate
  {{- else }}
  strategy:
    {{- .strategy | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "algo-trade.selectorLabels" $labels | nindent 6 }}
      {{- if ne .shard "" }}
      algo-trade/shard: {{ .shard | quote }}
      {{- end }}
  template:
    metadata:
      labels:
        {{- include "algo-trade.labels" $labels | nindent 8 }}
        {{- if ne .shard "" }}
        algo-trade/shard: {{ .shard | quote }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmaps.yaml") $root | sha256sum }}
        {{- if not .noMetrics }}
        {{- with include "algo-trade.scrapeAnnotations" (dict "root" $root "port" .port) }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- end }}
        {{- with .values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "algo-trade.podSecurity" $root | nindent 6 }}
      terminationGracePeriodSeconds: {{ $grace }}
      containers:
        - name: {{ .component }}
          image: {{ include "algo-trade.image" (dict "root" $root "name" .image "digestKey" .digestKey) }}
          imagePullPolicy: {{ $root.Values.images.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ .configMap }}
          env:
            - name: {{ .portEnv }}
              value: {{ .port | quote }}
            {{- if .secretEnv }}
            {{- include "algo-trade.serviceSecretEnv" (dict "root" $root "prefix" .prefix) | nindent 12 }}
            {{- end }}
            {{- with .env }}
            {{- . | nindent 12 }}
            {{- end }}
          {{- include "algo-trade.httpProbes" .probes | nindent 10 }}
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          {{- include "algo-trade.serviceContainerSecurity" $root | nindent 10 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- with include "algo-trade.topologySpread" $labels }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- with include "algo-trade.scheduling" .values | trim }}
      {{- . | nindent 6 }}
      {{- end }}
{{- end }}
