{{- define "greeter.command" -}}
/bin/mkdir -p /www && echo {{ .Values.greeting | quote }} > /www/index.html && exec /bin/httpd -f -p {{ .Values.port }} -h /www
{{- end -}}
