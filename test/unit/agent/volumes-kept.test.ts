// Which persistent volumes a node keeps: its instances' and those whose
// record names it; not an instance's old copy after it was recreated
// elsewhere (onNodeLoss: recreate), nor a deleted job's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AcceptedJob } from '../../../src/model/cluster';
import { volumesKeptOn } from '../../../src/agent/node-agent';

function job(name: string, nodes: Array<string | null>, volumes: Record<string, string>, daemon = false): AcceptedJob {
  return {
    spec: { name, numInstances: nodes.length, containers: [], ...(daemon ? { type: 'daemon' as const } : {}) },
    specHash: 'h',
    commit: 'c',
    file: `jobs/${name}.yaml`,
    acceptedAt: 't',
    instances: nodes.map((node) => ({ node, since: 't', ...(daemon && node ? { daemon: node } : {}) })),
    volumes,
  };
}

test('a node keeps its instances and its recorded volumes; an instance recreated elsewhere is not kept here', () => {
  // db-1 lived on n1, n1 was lost, db-1 was recreated on n2 (the record moved); db-2 waits for n1.
  const db = job('db', ['n1', 'n2', null], { '0': 'n1', '1': 'n2', '2': 'n1' });
  const agents = job('agent', ['n1', 'n2'], { 'agent-n1': 'n1', 'agent-n2': 'n2' }, true);
  const web = job('web', ['n2'], {});
  const keep = volumesKeptOn('n1', [web, db, agents]);
  assert.deepEqual(
    [...keep].map(([j, s]) => [j, [...s]]),
    [
      ['agent', ['agent-n1']],
      ['db', ['db-0', 'db-2']],
    ],
  );
  assert.deepEqual([...volumesKeptOn('n2', [db]).get('db')!], ['db-1']);
});
