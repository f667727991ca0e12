// Node runtime (issue 4's figure): bench/node.ts (another engineer's)
// measures assignment → healthy + DNS against the engine's own
// create+start; this turns its result into figures. Returns undefined for
// a shape it does not know, and the harness then renders it generically.
import type { Figure, Section } from '../lib/figures';
import { isObject } from './generic';

interface Summary {
  p50: number;
  p99: number;
}
interface NodeResult {
  repetitions: number;
  agent: Summary;
  floor: Summary;
}

const isSummary = (v: unknown): v is Summary => isObject(v) && typeof v.p50 === 'number' && typeof v.p99 === 'number';

function isNodeResult(v: unknown): v is NodeResult {
  return isObject(v) && typeof v.repetitions === 'number' && isSummary(v.agent) && isSummary(v.floor);
}

export function nodeSection(result: unknown, durationMs: number): Section | undefined {
  if (!isNodeResult(result)) return undefined;
  const r = result;
  const figures: Figure[] = (['p50', 'p99'] as const).map((p) => ({
    id: `node.assignmentToHealthy.${p}`,
    label: `assignment in etcd → instance healthy and in DNS, ${p} (${r.repetitions} pods)`,
    value: r.agent[p],
    unit: 'ms',
    vs: { kind: 'floor', label: `engine create+start of the same containers, ${p}`, value: r.floor[p], unit: 'ms', measured: true },
  }));
  return {
    id: 'node',
    title: 'Node runtime: assignment to healthy (NodeAgent, podman, etcd)',
    figures,
    notes: [
      'bench/node.ts: a two-container pod (busybox httpd with an HTTP check every 100 ms, plus a dependent container) started by the NodeAgent from an accepted job; the floor is the Engine API creating and starting the same two containers with nothing else around.',
    ],
    durationMs,
    raw: result,
  };
}
