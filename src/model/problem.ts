// RFC 9457 problem details, as written to `<reports-dir>/<job>.json`.

export interface ProblemFieldError {
  /** JSON pointer into the YAML document, e.g. "/containers/app/memory". */
  pointer: string;
  message: string;
}

export interface Problem {
  /** URL of an anchor in docs/errors.md, e.g. `${DOCS}#insufficient-memory`. */
  type: string;
  title: string;
  detail: string;
  job?: string;
  /** The commit SHA judged. */
  commit?: string;
  /** Repository-relative path of the file judged. */
  file?: string;
  errors?: ProblemFieldError[];
  /** Extension members (e.g. per-node reasons) are allowed by RFC 9457. */
  [extension: string]: unknown;
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
