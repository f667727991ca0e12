{{/*
A command list; each argument is rendered as a template itself, so values
can refer to other values (ports, paths). Call with (dict "command" LIST "root" $).
*/}}
{{- define "webapp.command" -}}
{{- range .command }}
- {{ tpl (toString .) $.root | quote }}
{{- end }}
{{- end -}}

{{/* An environment map (name -> value) as the job format's list of {name, value}, sorted by name. */}}
{{- define "webapp.environment" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Where the app finds its database: the db container shares the pod's localhost. */}}
{{- define "webapp.databaseUrl" -}}
{{- with .Values.db -}}
postgresql://{{ .user }}:{{ .password }}@localhost:{{ .port }}/{{ .database }}
{{- end -}}
{{- end -}}

{{- define "webapp.appPort" -}}
{{- if .Values.app.hostPort -}}
{{ .Values.app.hostPort }}:{{ .Values.app.port }}
{{- else -}}
{{ .Values.app.port }}
{{- end -}}
{{- end -}}
