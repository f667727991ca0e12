// Invariant 9: a commit that deletes every job (or most of them) is far
// more often a mistake (a bad merge, a wrong branch, a broken chart) than
// an intent. Such a round deletes nothing and says how to opt in.
import { specHash } from '../model/hash';
import type { Problem } from '../model/problem';
import { makeProblem } from '../problems';
import type { DeletionGuardSettings } from './types';

/** Report key of the deletion guard's problem (not a valid job name, so it cannot clash). */
export const DELETION_GUARD_KEY = '_deletion-guard';

const NAMES_IN_PROBLEM = 50;

export interface GuardVerdict {
  tripped: boolean;
  problem?: Problem;
  /** Changes when the set of jobs it would delete changes. */
  desiredHash?: string;
}

/**
 * `deleting` jobs out of `acceptedCount` would be deleted. Trips when all
 * of them would go (at least one accepted), or more than maxDeleteShare of
 * them (more than two accepted); allowDeleteAll opts out of both.
 */
export function checkDeletionGuard(deleting: readonly string[], acceptedCount: number, settings: DeletionGuardSettings, commit: string): GuardVerdict {
  const n = deleting.length;
  if (n === 0 || settings.allowDeleteAll) return { tripped: false };
  const all = n >= acceptedCount && acceptedCount >= 1;
  const tooMany = acceptedCount > 2 && n / acceptedCount > settings.maxDeleteShare;
  if (!all && !tooMany) return { tripped: false };
  const names = [...deleting].sort();
  const listed = names.slice(0, NAMES_IN_PROBLEM).join(', ') + (names.length > NAMES_IN_PROBLEM ? `, … (${names.length - NAMES_IN_PROBLEM} more)` : '');
  const what = all ? `all ${acceptedCount} accepted job${acceptedCount === 1 ? '' : 's'}` : `${n} of ${acceptedCount} accepted jobs`;
  const howTo = all
    ? 'To delete every job, set deletionGuard.allowDeleteAll: true in ozy.yaml.'
    : `To apply it, raise deletionGuard.maxDeleteShare in ozy.yaml (now ${settings.maxDeleteShare}) or set deletionGuard.allowDeleteAll: true.`;
  const detail = `This commit would delete ${what} (${listed}); no job was deleted. ${howTo}`;
  const problem = makeProblem('mass-deletion', {
    detail,
    commit,
    extra: { deleting: names.slice(0, NAMES_IN_PROBLEM), deletingCount: n, acceptedCount },
  });
  return { tripped: true, problem, desiredHash: specHash(names) };
}
