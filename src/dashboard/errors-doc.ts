// docs/errors.md as an HTML page, so the `type` URL of every problem
// resolves wherever a dashboard runs: `ozy up` points its agents' problem
// types (OZY_DOCS_URL) at `http://<dashboard>/docs/errors.md`, and each
// `## <anchor>` heading becomes an element with that id. A deliberately
// small Markdown subset (headings, fenced code, paragraphs, lists, inline
// code, tables as text): everything is escaped, nothing is linked, no script.

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escaped text with `code` spans. */
function inline(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** The anchor of a heading: GitHub's slug (lower case, spaces to '-', punctuation dropped). */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function renderErrorsDoc(markdown: string): string {
  const out: string[] = [];
  let paragraph: string[] = [];
  let code: string[] | undefined;
  const flush = (): void => {
    if (paragraph.length > 0) out.push(`<p>${paragraph.map(inline).join('<br>')}</p>`);
    paragraph = [];
  };
  for (const line of markdown.split('\n')) {
    if (code) {
      if (/^```/.test(line)) {
        out.push(`<pre>${escapeHtml(code.join('\n'))}</pre>`);
        code = undefined;
      } else code.push(line);
      continue;
    }
    if (/^```/.test(line)) {
      flush();
      code = [];
      continue;
    }
    const h = /^(#{1,4})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      const level = h[1]!.length;
      out.push(`<h${level} id="${escapeHtml(slug(h[2]!))}">${inline(h[2]!)}</h${level}>`);
      continue;
    }
    if (line.trim() === '') flush();
    else paragraph.push(line);
  }
  if (code) out.push(`<pre>${escapeHtml(code.join('\n'))}</pre>`);
  flush();
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Ozymandias: problem types</title>',
    '<link rel="stylesheet" href="/app.css"></head>',
    `<body class="doc"><main>${out.join('\n')}</main></body></html>`,
    '',
  ].join('\n');
}
