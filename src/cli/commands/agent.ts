// `ozy agent --node NAME --repo URL ...`: the node agent. Runs until SIGINT
// or SIGTERM; containers are left running so that a restart within the
// lease adopts them without restarting anything.
import { SecretIdentityError } from '../../secrets/age';
import pino from 'pino';
import { Agent } from '../../agent/agent';
import { DataDirLockedError, lockDataDir } from '../../agent/data-dir-lock';
import { ConfigError, loadAgentConfig, loggableConfig } from '../../config';
import type { Command, CommandIo } from '../command';

const USAGE = `Usage: ozy agent --node NAME --repo URL [options]

Runs the node agent: registers NAME in etcd under a lease, polls the job
repository, schedules (leaderless: the first agent to commit wins),
runs this node's instances through the Docker Engine API and publishes
their DNS records. Every option can also be set by the OZY_* variable in
brackets; flags win. Logs are JSON (pino) on stderr.

Options:
  --node NAME           this node's name, a DNS-1123 label [OZY_NODE] (required)
  --repo URL            http(s) URL of the job repository [OZY_REPO] (required);
                        credentials: OZY_GIT_TOKEN (and OZY_GIT_USERNAME), never logged
  --branch B            tracked branch [OZY_BRANCH] (main)
  --etcd URLS           comma-separated etcd endpoints [OZY_ETCD] (http://127.0.0.1:2379)
  --etcd-prefix P       key prefix [OZY_ETCD_PREFIX] (/ozy)
  --etcd-ca FILE        CA (PEM) that signed etcd's server certificate [OZY_ETCD_CA]
                        (the system's CAs); TLS needs https:// endpoints
  --etcd-cert FILE      client certificate (PEM) for etcd's --client-cert-auth [OZY_ETCD_CERT]
  --etcd-key FILE       the client certificate's key (PEM) [OZY_ETCD_KEY]
                        an etcd user: OZY_ETCD_USERNAME and OZY_ETCD_PASSWORD (environment
                        only, never logged); see docs/security.md
  --docker-socket PATH  Docker Engine API socket [OZY_DOCKER_SOCKET] (podman's or docker's default)
  --memory SIZE         schedulable memory, e.g. 8G [OZY_MEMORY] (the machine's)
  --disk SIZE           schedulable disk for local volumes [OZY_DISK] (free space of the data dir)
  --cpus N              schedulable CPUs, e.g. 2, 1.5 or 500m [OZY_CPUS] (the machine's)
  --zone Z              failure domain [OZY_ZONE]
  --label k=v           node label, repeatable [OZY_LABELS="k=v,k2=v2"]
  --address A           how other nodes reach this one, used in DNS records [OZY_ADDRESS]
                        (first non-loopback IPv4)
  --publish-ip IP       host IP published ports bind to [OZY_PUBLISH_IP] (0.0.0.0)
  --poll D              git poll interval [OZY_POLL] (5s)
  --lease-ttl D         node lease TTL, at least 2s [OZY_LEASE_TTL] (10s)
  --data-dir DIR        clone, local volumes, agent state [OZY_DATA_DIR] (/var/lib/ozy/NAME)
  --shared-dir DIR      root of shared volumes [OZY_SHARED_DIR] (DATA_DIR/../shared)
  --report-branch B     branch for rejection reports [OZY_REPORT_BRANCH] (the tracked branch)
  --reports-dir DIR     directory of reports in the repo [OZY_REPORTS_DIR] (rejections)
  --dns-zone Z          zone of instance DNS records [OZY_DNS_ZONE] (ozy.local)
  --container-dns IP    name server containers resolve through, zone as search domain [OZY_CONTAINER_DNS]
  --secrets-identity FILE  age identity that decrypts secrets/<name>.age (mode 0600 or stricter) [OZY_SECRETS_IDENTITY]
  --http ADDR           HTTP endpoint: /metrics (Prometheus), /healthz, /readyz, /v1/logs
                        [OZY_HTTP] (127.0.0.1:7070, else an ephemeral loopback port when
                        taken); HOST:PORT, :PORT (every address) or off. An explicit
                        ADDR that cannot be bound stops the agent. The address in use is
                        in the agent's etcd record. Logs need OZY_API_TOKEN (environment
                        only, never logged): without it they are not served.
                        See docs/observability.md
  --fence-on-expiry     strict fencing: stop this node's instances as soon as the lease
                        could not be renewed for a whole TTL [OZY_FENCE_ON_EXPIRY=true]
                        (default off: DNS records die with the lease and containers stop
                        when etcd confirms the lease is gone; see docs/fault-tolerance.md)
`;

export const command: Command = {
  summary: 'run the node agent (flags also from OZY_* variables)',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    let cfg;
    try {
      cfg = loadAgentConfig(argv, io.env);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.stderr.write(`ozy agent: ${err.message}\n\nRun \`ozy agent --help\` for the options.\n`);
        return 2;
      }
      throw err;
    }
    let unlock: () => void;
    try {
      unlock = lockDataDir(cfg.dataDir);
    } catch (err) {
      if (err instanceof DataDirLockedError) {
        io.stderr.write(`ozy agent: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const log = pino({ base: { node: cfg.node }, level: io.env.OZY_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));
    log.info({ config: loggableConfig(cfg) }, 'starting');
    let agent: Agent;
    try {
      agent = new Agent(cfg, log);
    } catch (err) {
      if (err instanceof SecretIdentityError) {
        log.error({ err: err.message }, 'refusing to start');
        io.stderr.write(`ozy agent: ${err.message}\n`);
        unlock();
        return 2;
      }
      throw err;
    }
    const stopped = new Promise<void>((resolve) => {
      const onSignal = (sig: NodeJS.Signals) => {
        log.info({ signal: sig }, 'stopping (containers keep running)');
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    try {
      // Startup retries for as long as etcd cannot be used (unreachable, or refusing our
      // certificate or password): a signal meanwhile must still stop the process.
      const outcome = await Promise.race([agent.start().then(() => 'started' as const), stopped.then(() => 'stopped' as const)]);
      if (outcome === 'stopped') {
        await agent.stop().catch(() => undefined);
        unlock();
        return 0;
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      log.fatal({ err: err instanceof Error ? err.message : String(err), code }, 'agent failed to start');
      io.stderr.write(`ozy agent: ${err instanceof Error ? err.message : String(err)}\n`);
      await agent.stop().catch(() => undefined);
      unlock();
      return 1;
    }
    await stopped;
    await agent.stop();
    unlock();
    return 0;
  },
};
