// Branch names arrive from flags and environment variables; they become
// ref paths inside the local clone, so they are checked against git's own
// rules (git check-ref-format) before use.
import { GitInvalidPathError } from './errors';

const FORBIDDEN = /[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\/|\/\.|\.lock(\/|$)/;

export function isValidBranchName(name: string): boolean {
  return (
    name.length > 0 &&
    name !== '@' &&
    !FORBIDDEN.test(name) &&
    !name.startsWith('/') &&
    !name.startsWith('.') &&
    !name.startsWith('-') &&
    !name.endsWith('/') &&
    !name.endsWith('.')
  );
}

export function assertBranchName(name: string): void {
  if (!isValidBranchName(name)) throw new GitInvalidPathError(`"${name}" is not a valid branch name`);
}
