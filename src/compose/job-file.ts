// The text of `jobs/<job>.yaml`: a header saying where the job came from and
// what of it was not carried over (or was, with a change), then the job.
// The header holds user-provided text (paths, port specs), so control
// characters are replaced: a newline there would end the comment and let
// that text become YAML of the job.
import { toYaml } from '../render/yaml';
import type { ComposeFinding, ImportedJob } from './types';

const LABEL: Record<ComposeFinding['kind'], string> = { refused: 'refused: ', 'left-out': 'left out:', note: 'note:    ' };

export function jobFileText(j: ImportedJob, source: string, findings: readonly ComposeFinding[]): string {
  const mine = findings.filter((x) => x.service !== undefined && j.services.includes(x.service));
  const what = j.services.length === 1 ? `service ${j.services[0]}` : `services ${j.services.join(', ')}`;
  const header = [
    `Imported from ${source} (${what}) by \`ozy import compose\`.`,
    mine.length === 0
      ? 'Every key was carried over. Check memory and cpu, then run `ozy validate`.'
      : 'Not carried over, or carried with a change (check these, then run `ozy validate`):',
    ...mine.map((x) => `  ${LABEL[x.kind]} ${x.path}: ${x.why}`),
  ];
  return `${header.map((l) => `# ${comment(l)}`.trimEnd()).join('\n')}\n${toYaml(j.job)}`;
}

function comment(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u001f\u007f\u2028\u2029\u0085]/g, '?');
}
