{{/* Names, labels and shared snippets of the Driftline chart. */}}

{{- define "driftline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name; every resource name starts with it. */}}
{{- define "driftline.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "driftline.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "driftline.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "driftline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "driftline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "driftline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "driftline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: driftline
{{- end }}

{{- define "driftline.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "driftline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "driftline.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Secret holding the shared DRIFTLINE_* secret settings. */}}
{{- define "driftline.envSecretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-env" (include "driftline.fullname" .)) }}
{{- end }}

{{/* Secret holding the audit digest HMAC key (key `digest-key`). */}}
{{- define "driftline.auditSecretName" -}}
{{- .Values.secrets.existingAuditSecret | default (printf "%s-audit" (include "driftline.fullname" .)) }}
{{- end }}

{{/* The Secret holding the event-signing keys (public-keys, <service>-key). */}}
{{- define "driftline.signingSecretName" -}}
{{- .Values.secrets.existingSigningSecret | default (printf "%s-signing" (include "driftline.fullname" .)) }}
{{- end }}

{{/* A topic's partition count: its override, else topics.partitions. */}}
{{- define "driftline.partitions" -}}
{{- $top := index . 0 }}{{- $topic := index . 1 }}
{{- index $top.Values.topics.partitionsByTopic $topic | default $top.Values.topics.partitions }}
{{- end }}

{{/* Restricted pod security: non-root, no privilege escalation, read-only root filesystem. */}}
{{- define "driftline.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end }}
