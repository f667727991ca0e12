// `ozy up`, the one-machine quickstart, and the building blocks it shares
// with the test harness (one implementation each of "start etcd", "serve
// git over smart HTTP" and "start a podman service that works here").
//
//   options.ts      flags → UpOptions
//   up.ts           runUp: start in order, follow, stop in reverse
//   messages.ts     the hints printed when ready, the "already running" report
//   stale.ts        stopping what a killed `ozy up` left running
//   supervisor.ts   the processes started, their unexpected exits
//   etcd.ts         EtcdMember: an etcd child process, health
//   podman.ts       startPodmanService, CONTAINERS_CONF
//   git-http.ts     GitHttpBackend (CGI bridge), startGitHttpServer
//   job-repo.ts     the served bare repository (examples/ or --repo-dir)
//   agents.ts       planAgents: names, zones, capacity shares (pure)
//   summary.ts      live summary / change lines (pure)
//   follow.ts       ClusterFollower: reads etcd, prints the summary
//   state-file.ts   the lock + record in <state-dir>/up.json
//   containers.ts   removeNodeContainers (shutdown)
//   ports.ts, layout.ts, programs.ts, child.ts, wait.ts: small helpers
export { runUp, UP_EXIT, type UpIo } from './up';
export { parseUpOptions, defaultStateDir, type UpOptions } from './options';
export { UpError, type UpErrorCode } from './errors';
export { EtcdMember, etcdHealthy, etcdBinary, type EtcdMemberSpec } from './etcd';
export { startPodmanService, enginePings, CONTAINERS_CONF, registriesConf, type PodmanServiceOptions, type PodmanServiceProcess } from './podman';
export { GitHttpBackend, startGitHttpServer, isolatedGitEnv, type GitHttpServer } from './git-http';
export { spawnLogged, logTail, type LoggedChild } from './child';
