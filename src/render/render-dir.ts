// A checkout on disk → RenderResult: the safe loader, the shipped charts and
// the pure renderer together (what `ozy validate`, `ozy render` and `ozy plan` need).
import { bindSecrets, secretFilesOf } from '../secrets/bind';
import { loadBuiltinCharts } from './builtin-charts';
import { readRepoDir } from './read-repo-dir';
import { renderRepo, type RenderProblem, type RenderResult } from './render-repo';

export async function renderRepoDir(dir: string, opts: { commit?: string } = {}): Promise<RenderResult> {
  const { files, problems: loadProblems } = await readRepoDir(dir);
  // Secret references are bound to their files as the agents bind them (same pod hashes), without decrypting.
  const result = bindSecrets(renderRepo(files, { ...opts, builtinCharts: loadBuiltinCharts() }), secretFilesOf(files), opts.commit);
  const withCommit = (p: RenderProblem): RenderProblem =>
    opts.commit !== undefined ? { ...p, problem: { ...p.problem, commit: opts.commit } } : p;
  const problems = [...loadProblems.map(withCommit), ...result.problems].sort(
    (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : 0),
  );
  return { ...result, problems };
}
