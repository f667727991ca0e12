// Why a placement failed, in the words a user needs: per resource how much
// was needed and how much could be allocated (the seed's "Job requires 12G
// of memory but only 10G can be allocated."), and per node the checkers'
// reasons. Only runs after a failure, so it may scan every node.
import type { Problem } from '../model/problem';
import { makeProblem, type ProblemType } from '../problems';
import type { ClusterState } from './cluster-state';
import { feasible, reasonsFor, type PlacementRequest } from './checkers';
import { CPU, DISK, MEMORY, RESOURCE_INDEXES, type ResourceIndex } from './demand';
import { formatAmount, resourceNoun } from './format';
import { DEFAULT_POLICY, type SchedulerPolicy } from './place';
import { eligible } from './rules';

/** A constraint that on its own cannot hold all the instances. */
export type Shortfall =
  | { kind: 'resource'; resource: ResourceIndex; perInstance: number; needed: number; allocatable: number }
  | { kind: 'host-ports'; ports: readonly string[]; needed: number; nodesFree: number }
  /** spread: nodes: one instance per node, and only `nodesFree` nodes hold none yet. */
  | { kind: 'one-per-node'; needed: number; nodesFree: number }
  /** No live node passes the job's label (or zone) rules. */
  | { kind: 'no-eligible-nodes'; labels: string };

export interface PlacementExplanation {
  /** Instances that had to be placed. */
  count: number;
  /** How many of them the live nodes can hold at most, as things stand. */
  fit: number;
  liveNodes: number;
  shortfalls: Shortfall[];
  /**
   * Every live node, with why it cannot take (more) instances: the
   * checkers' reasons, preceded by "room for N instances, then" when the
   * node could take some but not all.
   */
  nodeReasons: Record<string, string>;
}

/** Explain why `count` instances of `req` do not fit into `state`. */
export function explainPlacement(state: ClusterState, req: PlacementRequest, count: number, policy: SchedulerPolicy = DEFAULT_POLICY): PlacementExplanation {
  const amounts = req.demand.amounts;
  const perResource = [0, 0, 0];
  let portNodes = 0;
  let spreadNodes = 0;
  let eligibleNodes = 0;
  let fit = 0;
  const nodeReasons: Record<string, string> = {};
  for (let node = 0; node < state.size; node++) {
    // A node the rules exclude holds nothing of the job, however free it is.
    if (!eligible(state, node, req)) {
      nodeReasons[state.names[node]] = reasonsFor(policy.checkers, state, node, req);
      continue;
    }
    eligibleNodes++;
    // The instances of one job are alike, so each node independently holds
    // floor(free / demand) of them per resource, and one if it has ports.
    let k = Number.POSITIVE_INFINITY;
    for (const r of RESOURCE_INDEXES) {
      if (amounts[r] === 0) continue;
      const n = Math.floor(Math.max(0, state.free[r][node]) / amounts[r]);
      perResource[r] += n;
      k = Math.min(k, n);
    }
    if (req.demand.hostPorts.length > 0) {
      const portsFree = req.demand.hostPorts.every((p) => !state.portTaken(node, p));
      if (portsFree) portNodes++;
      k = Math.min(k, portsFree ? 1 : 0);
    }
    if (req.rules?.onePerNode) {
      const none = state.jobInstancesOn(req.job, node) === 0;
      if (none) spreadNodes++;
      k = Math.min(k, none ? 1 : 0);
    }
    if (!feasible(policy.checkers, state, node, req)) {
      k = 0;
      nodeReasons[state.names[node]] = reasonsFor(policy.checkers, state, node, req);
    } else if (k < count) {
      // What stops it after the k it can hold: look at the node with them on.
      const why = state.whatIf(node, req.job, req.demand, k, () => reasonsFor(policy.checkers, state, node, req));
      nodeReasons[state.names[node]] = `room for ${k} instance${k === 1 ? '' : 's'}, then ${why}`;
    }
    fit += k;
  }
  const shortfalls: Shortfall[] = [];
  if (eligibleNodes === 0 && state.size > 0) {
    const labels = (req.rules?.labels ?? []).map(([k, v]) => `${k}=${v}`).join(', ');
    shortfalls.push({ kind: 'no-eligible-nodes', labels });
    return { count, fit: 0, liveNodes: state.size, shortfalls, nodeReasons };
  }
  if (req.rules?.onePerNode && spreadNodes < count) shortfalls.push({ kind: 'one-per-node', needed: count, nodesFree: spreadNodes });
  for (const r of [MEMORY, CPU, DISK] as const) {
    if (amounts[r] > 0 && perResource[r] < count) {
      shortfalls.push({ kind: 'resource', resource: r, perInstance: amounts[r], needed: count * amounts[r], allocatable: perResource[r] * amounts[r] });
    }
  }
  if (req.demand.hostPorts.length > 0 && portNodes < count) {
    shortfalls.push({ kind: 'host-ports', ports: req.demand.hostPorts, needed: count, nodesFree: portNodes });
  }
  return { count, fit: Math.min(fit, count), liveNodes: state.size, shortfalls, nodeReasons };
}

export interface ProblemContext {
  job: string;
  file?: string;
  commit?: string;
  /** 'more' for a scale-up: the count is of additional instances. */
  scope: 'all' | 'more' | 'pending';
  /** Per-instance needs, e.g. from describeDemand(). */
  perInstance: string;
}

/**
 * One node's reasons as people read them: "node n3: missing label disk=ssd"
 * (DESIGN.md, placement: a bare "n3:" reads like a zone or a job).
 */
export function nodeReasonLine(node: string, reasons: string): string {
  return `node ${node}: ${reasons}`;
}

/** Nodes listed in a problem; the full map stays in the plan outcome. */
export const MAX_NODES_IN_PROBLEM = 20;

export function placementProblem(exp: PlacementExplanation, ctx: ProblemContext): { type: ProblemType; problem: Problem } {
  const type = problemType(exp);
  const many = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const sentences: string[] = [];
  if (exp.liveNodes === 0) {
    sentences.push(`There are no live nodes to place ${many(exp.count, ctx.scope === 'more' ? 'more instance' : 'instance')} on.`);
  } else {
    const forWhat = ctx.scope === 'more' ? ` for ${many(exp.count, 'more instance')}` : ctx.scope === 'pending' ? ` for its ${many(exp.count, 'pending instance')}` : '';
    for (const s of exp.shortfalls) sentences.push(shortfallSentence(s, forWhat));
    if (exp.shortfalls.length === 0) {
      sentences.push(`Job has enough of each resource in total${forWhat}, but not together on the same nodes.`);
    }
    sentences.push(`Each instance needs ${ctx.perInstance}; ${exp.fit} of ${exp.count} fit on ${many(exp.liveNodes, 'live node')}.`);
  }
  const names = Object.keys(exp.nodeReasons).sort();
  const nodes: Record<string, string> = {};
  for (const n of names.slice(0, MAX_NODES_IN_PROBLEM)) nodes[n] = exp.nodeReasons[n];
  const extra: Record<string, unknown> = { nodes };
  if (names.length > MAX_NODES_IN_PROBLEM) extra.nodesNotShown = names.length - MAX_NODES_IN_PROBLEM;
  const problem = makeProblem(type, { detail: sentences.join(' '), job: ctx.job, file: ctx.file, commit: ctx.commit, extra });
  return { type, problem };
}

function problemType(exp: PlacementExplanation): ProblemType {
  if (exp.liveNodes === 0) return 'no-nodes';
  if (exp.shortfalls.length !== 1) return 'insufficient-resources';
  const s = exp.shortfalls[0];
  if (s.kind === 'host-ports') return 'host-port-conflict';
  if (s.kind === 'one-per-node') return 'spread-conflict';
  if (s.kind === 'no-eligible-nodes') return 'no-eligible-nodes';
  return s.resource === MEMORY ? 'insufficient-memory' : s.resource === DISK ? 'insufficient-disk' : 'insufficient-cpu';
}

function shortfallSentence(s: Shortfall, forWhat: string): string {
  if (s.kind === 'one-per-node') {
    return `Job spreads over nodes (spread: nodes), so each instance needs a node of its own, but only ${s.nodesFree} live node${s.nodesFree === 1 ? ' runs' : 's run'} none of its instances, for ${s.needed} instance${s.needed === 1 ? '' : 's'}${forWhat}.`;
  }
  if (s.kind === 'no-eligible-nodes') return `No live node carries the label${s.labels.includes(',') ? 's' : ''} ${s.labels} (placement.nodeLabels).`;
  if (s.kind === 'host-ports') {
    const ports = s.ports.length === 1 ? `host port ${s.ports[0]}` : `host ports ${s.ports.join(', ')}`;
    return `Job publishes ${ports}, so each instance needs a node of its own, but only ${s.nodesFree} live node${s.nodesFree === 1 ? ' has' : 's have'} ${s.ports.length === 1 ? 'it' : 'them'} free for ${s.needed} instance${s.needed === 1 ? '' : 's'}.`;
  }
  const r = s.resource;
  const needed = formatAmount(r, s.needed);
  const what = r === CPU ? needed : `${needed} of ${resourceNoun(r)}`;
  if (s.allocatable === 0) {
    const one = formatAmount(r, s.perInstance);
    return `Job requires ${what}${forWhat} but none can be allocated: no live node has ${one}${r === CPU ? '' : ` of ${resourceNoun(r)}`} free.`;
  }
  return `Job requires ${what}${forWhat} but only ${formatAmount(r, s.allocatable)} can be allocated.`;
}

/** "4G memory, 1 CPU, 10G local disk, host port 80/tcp". */
export function describeDemand(req: PlacementRequest): string {
  const parts: string[] = [];
  for (const r of [MEMORY, CPU, DISK] as const) {
    const amount = req.demand.amounts[r];
    if (amount > 0) parts.push(r === CPU ? formatAmount(r, amount) : `${formatAmount(r, amount)} ${resourceNoun(r)}`);
  }
  const ports = req.demand.hostPorts;
  if (ports.length > 0) parts.push(ports.length === 1 ? `host port ${ports[0]}` : `host ports ${ports.join(', ')}`);
  return parts.length > 0 ? parts.join(', ') : 'no resources';
}
