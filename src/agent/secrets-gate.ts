// The brain's secrets step after each render (secrets/bind.ts does the
// binding): every secret file a job refers to is decrypted once, here, with
// the agent's identity, to learn whether the nodes will be able to — the
// plaintext is dropped at once; only the verdict is kept, by the file's
// SHA-256 (a changed file is a new hash). Without an identity nothing can
// be checked, so jobs with secrets are refused with a report saying so.
import type { RenderResult } from '../render';
import type { SecretIdentity } from '../secrets/age';
import { bindSecrets, secretFilesOf, secretsOf, sha256Hex } from '../secrets/bind';
import type { SourceFile } from './ports';

const NO_IDENTITY = 'the deciding agent has no --secrets-identity to decrypt it with';

export class SecretsGate {
  /** sha256 → why it cannot be decrypted ('' when it can). */
  private readonly verdicts = new Map<string, string>();

  constructor(private readonly identity: SecretIdentity | undefined) {}

  async bind(render: RenderResult, files: readonly SourceFile[], commit: string): Promise<RenderResult> {
    const wanted = new Set<string>();
    for (const d of render.jobs) for (const name of secretsOf(d.spec)) wanted.add(name);
    if (wanted.size === 0) return render;
    const secretFiles = secretFilesOf(files);
    const live = new Set<string>();
    for (const name of wanted) {
      const bytes = secretFiles.get(name);
      if (!bytes) continue;
      const sha = sha256Hex(bytes);
      live.add(sha);
      if (this.verdicts.has(sha)) continue;
      this.verdicts.set(sha, await this.check(bytes));
    }
    for (const sha of this.verdicts.keys()) if (!live.has(sha)) this.verdicts.delete(sha);
    return bindSecrets(render, secretFiles, commit, (sha) => this.verdicts.get(sha) || undefined);
  }

  private async check(bytes: Uint8Array): Promise<string> {
    if (!this.identity) return NO_IDENTITY;
    try {
      await this.identity.decrypt(bytes);
      return '';
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}

