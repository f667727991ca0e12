// Public API of the renderer: repository files → desired jobs + problems.
// See render-repo.ts for the pipeline and docs/errors.md for the problems.
export { renderRepo } from './render-repo';
export { RenderCache } from './render-cache';
export { IncrementalRender, type IncrementalRenderStats } from './incremental-render';
export type { RenderOptions, RenderProblem, RenderResult, RepoFile } from './render-repo';
export type { RepoSettings } from './settings';
export { defaultSettings } from './settings';
export { isRelevantPath } from './repo-paths';
export { loadBuiltinCharts } from './builtin-charts';
export { readRepoDir, RepoDirError } from './read-repo-dir';
export type { RepoDirContents } from './read-repo-dir';
export { toRawJob } from './to-raw';
export { toYaml } from './yaml';
export type { Chart } from './charts';
export { renderRepoDir } from './render-dir';
