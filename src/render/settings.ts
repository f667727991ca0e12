// ozy.yaml: repository settings. Missing or invalid → the defaults, which
// are the cautious choice (the scheduler refuses mass deletions).
import type { Finding } from './findings';
import type { RepoSettings as RepoSettingsRaw } from './job-raw.generated';
import { validateDocument } from './schema';

export interface RepoSettings {
  deletionGuard: {
    /** Largest share (0..1) of accepted jobs one commit may delete. */
    maxDeleteShare: number;
    /** A commit may delete every job. */
    allowDeleteAll: boolean;
  };
  /** Move running instances to even out each job across the nodes (e.g. onto a node that joined). */
  rebalance: boolean;
  /** age recipients secrets are encrypted to (`ozy secret encrypt`); empty when the file names none. */
  secretRecipients: string[];
}

export function defaultSettings(): RepoSettings {
  return { deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: false }, rebalance: false, secretRecipients: [] };
}

export type SettingsVerdict = { ok: true; settings: RepoSettings } | { ok: false; findings: Finding[] };

/** `doc` is the parsed ozy.yaml (null for an empty file). */
export function judgeSettings(doc: unknown): SettingsVerdict {
  if (doc === null || doc === undefined) return { ok: true, settings: defaultSettings() };
  const findings = validateDocument('settings', doc);
  if (findings.length > 0) return { ok: false, findings };
  const raw = doc as RepoSettingsRaw;
  const d = defaultSettings().deletionGuard;
  return {
    ok: true,
    settings: {
      deletionGuard: {
        maxDeleteShare: raw.deletionGuard?.maxDeleteShare ?? d.maxDeleteShare,
        allowDeleteAll: raw.deletionGuard?.allowDeleteAll ?? d.allowDeleteAll,
      },
      rebalance: raw.rebalance ?? false,
      secretRecipients: [...(raw.secrets?.recipients ?? [])],
    },
  };
}
