{{/*
The port mapping: "hostPort:port" when the port is published on the node,
otherwise just the container port.
*/}}
{{- define "web-service.portMapping" -}}
{{- if .Values.hostPort -}}
{{ .Values.hostPort }}:{{ .Values.port }}
{{- else -}}
{{ .Values.port }}
{{- end -}}
{{- end -}}

{{/*
The command as a YAML list; each argument is itself rendered as a template
so it can refer to other values (e.g. the port).
*/}}
{{- define "web-service.command" -}}
{{- range .Values.command }}
- {{ tpl (toString .) $ | quote }}
{{- end }}
{{- end -}}
