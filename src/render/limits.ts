// Bounds on what an untrusted job repository may make us read and parse.
// Each is far above what a real repository needs and far below what would
// hurt an agent that shares its node with the workloads.

/** One file (job, chart file, ozy.yaml). */
export const MAX_FILE_BYTES = 1024 * 1024;
/** All relevant files of the repository together. */
export const MAX_REPO_BYTES = 64 * 1024 * 1024;
/** Number of relevant files in the repository. */
export const MAX_REPO_FILES = 20_000;
/** Directory entries `readRepoDir` looks at before giving up (relevant or not). */
export const MAX_DIR_ENTRIES = 200_000;
/** Directory nesting under jobs/. */
export const MAX_DIR_DEPTH = 32;

/** YAML collection nesting (js-yaml `maxDepth`). */
export const YAML_MAX_DEPTH = 64;
/** YAML aliases (`*ref`) per document (js-yaml `maxAliases`). */
export const YAML_MAX_ALIASES = 32;
/**
 * Nodes of one document counted with aliases expanded: what a consumer that
 * walks the value (validation, templates, hashing) would visit. Stops the
 * "billion laughs" that stays under the alias limit.
 */
export const YAML_MAX_NODES = 100_000;
/** Documents a rendered chart may produce. */
export const MAX_CHART_DOCUMENTS = 1_000;
