// Compose service keys the job format has no place for, and why. Keys that
// would give a container privilege or host access are `refused` (the job
// format has none of it by design: docs/security.md); the rest are
// `left-out`. Keys mapped by service.ts are not listed here.
import type { FindingKind } from './types';

type Reason = readonly [FindingKind, string];

const HOST = (what: string): Reason => ['refused', `${what}: the job format gives containers no host access (docs/security.md)`];
const NO_FIELD = (what: string): Reason => ['left-out', `the job format has no ${what}`];

export const UNSUPPORTED_SERVICE_KEYS: Readonly<Record<string, Reason>> = {
  cap_add: ['refused', 'capabilities cannot be added: every container gets Docker\'s defaults minus NET_RAW, with no-new-privileges (docs/security.md)'],
  devices: HOST('host devices cannot be passed to a container'),
  device_cgroup_rules: HOST('device access cannot be granted'),
  gpus: HOST('GPUs (host devices) cannot be passed to a container'),
  security_opt: ['refused', 'security options cannot be changed: every container runs with no-new-privileges and the engine\'s default profiles (docs/security.md)'],
  sysctls: HOST('kernel parameters cannot be set'),
  cgroup_parent: HOST('the host cgroup cannot be chosen'),
  cgroup: HOST('the cgroup namespace cannot be chosen'),
  oom_kill_disable: HOST('the OOM killer cannot be disabled'),
  oom_score_adj: HOST('the OOM score cannot be changed'),
  use_api_socket: HOST('the engine\'s API socket cannot be given to a container'),
  volumes_from: ['left-out', 'containers cannot mount another container\'s volumes; give this service its own volumes'],
  annotations: NO_FIELD('annotations'),
  attach: ['left-out', 'logs are always collected (`ozy logs`)'],
  blkio_config: NO_FIELD('block I/O limits'),
  cpu_count: NO_FIELD('CPU count: `cpu` (cores) is the one CPU limit'),
  cpu_percent: NO_FIELD('CPU percentage: `cpu` (cores) is the one CPU limit'),
  cpu_shares: NO_FIELD('CPU shares: `cpu` (cores) is the one CPU limit'),
  cpu_period: NO_FIELD('CFS period: `cpu` (cores) is the one CPU limit'),
  cpu_quota: NO_FIELD('CFS quota: `cpu` (cores) is the one CPU limit; set `cpus`'),
  cpu_rt_period: NO_FIELD('real-time scheduling'),
  cpu_rt_runtime: NO_FIELD('real-time scheduling'),
  cpuset: NO_FIELD('CPU pinning'),
  cap_drop: ['left-out', 'capabilities are a fixed baseline (Docker\'s defaults minus NET_RAW); there is no per-container list'],
  configs: ['left-out', 'the job format has no config files: put small files in the image, or values in environment'],
  container_name: ['left-out', 'containers are named by the scheduler (`<job>-<ordinal>`, docs/architecture.md)'],
  credential_spec: NO_FIELD('Windows credential specs'),
  develop: ['left-out', 'Compose Watch is a development tool; jobs deploy images'],
  dns: ['left-out', 'pods use the node\'s resolver, or the agent\'s `--container-dns` (docs/dns.md)'],
  dns_opt: ['left-out', 'pods use the node\'s resolver, or the agent\'s `--container-dns` (docs/dns.md)'],
  dns_search: ['left-out', 'the search domain is the agent\'s `--dns-zone` with `--container-dns` (docs/dns.md)'],
  domainname: NO_FIELD('domain name'),
  extends: ['left-out', 'other services\' and files\' definitions are not merged in: copy what this service needs into it'],
  external_links: ['left-out', 'jobs find each other through DNS (`<job>.ozy.local`, docs/dns.md)'],
  extra_hosts: ['left-out', 'the job format has no /etc/hosts entries: use DNS names'],
  group_add: NO_FIELD('supplementary groups: `user` takes `uid:gid`'),
  hostname: ['left-out', 'instances are named by the scheduler (`<job>-<ordinal>`)'],
  init: NO_FIELD('init process: the command runs as PID 1'),
  ipc: HOST('the IPC namespace cannot be shared'),
  isolation: NO_FIELD('isolation technology'),
  label_file: ['left-out', 'containers carry the scheduler\'s labels (`ozy.job`, `ozy.instance`…) only'],
  labels: ['left-out', 'containers carry the scheduler\'s labels (`ozy.job`, `ozy.instance`…) only'],
  links: ['left-out', 'jobs find each other through DNS (`<job>.ozy.local`, docs/dns.md); containers of one pod through localhost (`--pod`)'],
  logging: ['left-out', 'logs go to the engine\'s bounded log (rotated at 10 MiB) and `ozy logs`'],
  mac_address: NO_FIELD('MAC addresses'),
  mem_reservation: ['left-out', 'the scheduler reserves the memory limit itself; set `mem_limit` or deploy.resources.limits.memory'],
  mem_swappiness: NO_FIELD('swap settings'),
  memswap_limit: NO_FIELD('swap settings'),
  models: NO_FIELD('AI models'),
  networks: ['left-out', 'each pod has its own network namespace on the engine\'s network; jobs reach each other through DNS (`<job>.ozy.local`) and `ozy ingress`, containers of one pod through localhost (`--pod`)'],
  pid: HOST('the PID namespace cannot be shared'),
  platform: ['left-out', 'nodes pull the image for their own platform'],
  post_start: NO_FIELD('lifecycle hooks: run it from the command'),
  pre_start: NO_FIELD('lifecycle hooks: run it from the command'),
  pre_stop: NO_FIELD('lifecycle hooks'),
  profiles: ['left-out', 'a job runs whenever its file is in the repository: the service was imported'],
  provider: ['left-out', 'provider services are Compose plugins; nothing to run'],
  pull_policy: ['left-out', 'nodes pull an image when it is missing'],
  pull_refresh_after: ['left-out', 'nodes pull an image when it is missing'],
  runtime: ['left-out', 'the node\'s engine runtime is used'],
  secrets: ['left-out', 'Compose secrets are files; the job format injects secrets as environment variables ({name, secret}: `ozy secret encrypt NAME`, docs/secrets.md)'],
  shm_size: NO_FIELD('/dev/shm size'),
  stdin_open: ['left-out', 'containers run without stdin'],
  stop_signal: ['left-out', 'pods are stopped with SIGTERM, then SIGKILL after stopGrace'],
  storage_opt: NO_FIELD('storage driver options'),
  tty: ['left-out', 'containers run without a TTY'],
  ulimits: ['left-out', 'ulimits are the node\'s defaults; `pids` limits processes'],
  userns_mode: HOST('the user namespace cannot be chosen'),
  uts: HOST('the UTS namespace cannot be shared'),
  working_dir: ['left-out', 'the job format has no working directory: the image\'s applies (or wrap the command: /bin/sh -c \'cd DIR && exec …\')'],
};

/** Keys that are harmless at these values (Compose's defaults), so carrying nothing loses nothing. */
export function isDefaultValue(key: string, value: unknown): boolean {
  if (value === null || value === false) return true;
  if (Array.isArray(value) && value.length === 0) return true;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return true;
  return (key === 'ipc' || key === 'pid' || key === 'uts') && value === '';
}
