// `ozy up`: the one-machine quickstart (src/up/). Runs until SIGINT,
// SIGTERM or SIGHUP, then stops everything it started.
import { parseUpOptions, runUp, UP_EXIT, UpError } from '../../up';
import type { Command, CommandIo } from '../command';

const USAGE = `Usage: ozy up [options]

Starts a whole cluster on this machine and follows it:
  etcd          the installed binary, data in the state dir, on 127.0.0.1
                (port 2379/2380 if free, else free ports; printed)
  podman        a Docker-compatible API service on <state-dir>/podman.sock,
                configured to work here (runc, cgroupfs, ulimits)
  image         localhost/ozy-busybox:1, the image examples/ uses, built
                locally if missing (needs busybox-static)
  job repo      a git repository served over smart HTTP on 127.0.0.1:
                a copy of examples/ (created once, then kept with your pushes)
                or --repo-dir DIR
  agents        N \`ozy agent\` processes: node-1..N, zones a, b, c in turn,
                each with 1/N of half the machine's memory and disk and
                1/N of its CPUs
then prints what it started and where, and a live summary of the cluster
(jobs, instances, health, rejections): redrawn on a terminal, one line per
change otherwise. Ctrl-C (SIGINT, SIGTERM, SIGHUP) stops the agents, removes
their containers, and stops podman, the git server and etcd: only what it
started. Data (etcd, the repository, agents' data) stays in the state dir
for the next run.

One \`ozy up\` per state dir: a second one prints what the first runs and
exits with status 3. If the first was killed, the next one stops what it
left running and starts afresh.

Options:
  --state-dir DIR      where everything lives (/var/lib/ozy-up as root, else ~/.ozy-up)
  --repo-dir DIR       serve this job repository instead of examples/: a bare
                       repository is served in place; a working copy or a plain
                       directory is copied once into the state dir and served from there
  --branch B           branch the agents track (main)
  --agents N           number of agents/nodes (1)
  --node-prefix P      node names P-1..P-N (node)
  --memory SIZE        each agent's schedulable memory, e.g. 2G (a share of the machine)
  --cpus N             each agent's schedulable CPUs, e.g. 1 or 500m (a share)
  --disk SIZE          each agent's disk for local volumes (a share)
  --poll D             the agents' git poll interval (1s)
  --lease-ttl D        the agents' lease TTL (the agent's default, 10s)
  --etcd URLS          use this etcd instead of starting one
  --docker-socket PATH use this Docker Engine API instead of starting podman
  --port-base N        etcd client N, etcd peer N+1, git N+2, ingress N+3, dns N+4, dashboard N+5,
                       exactly; 0: any free ports
                       (default: last run's ports, else 2379, 2380, 2381, else free ones)
  --refresh D          how often the summary is refreshed (1s)

Exit status: 0 stopped by a signal, 1 failed to start, 2 usage, 3 already running.
`;

export const command: Command = {
  summary: 'one-machine cluster: etcd, podman, a served job repo, agents; Ctrl-C stops it',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    let opts;
    try {
      opts = parseUpOptions(argv, io.cwd);
    } catch (err) {
      if (err instanceof UpError) {
        io.stderr.write(`ozy up: ${err.message}\n\nRun \`ozy up --help\` for the options.\n`);
        return UP_EXIT.usage;
      }
      throw err;
    }
    const stop = new AbortController();
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stop.signal.aborted) {
        io.stderr.write(`ozy up: ${sig}: still stopping, please wait (removing containers, stopping services)\n`);
        return;
      }
      stop.abort();
    };
    for (const s of signals) process.on(s, onSignal);
    try {
      return await runUp(opts, io, stop.signal);
    } finally {
      for (const s of signals) process.off(s, onSignal);
    }
  },
};
