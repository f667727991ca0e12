// The job format's security surface: `pids`, `user` and `readOnlyRootfs` are
// the only knobs, and nothing a docker-compose user might try for privilege
// (privileged, capabilities, host namespaces, host paths) gets through.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { podTemplateHash } from '../../../src/model/hash';
import type { JobSpec } from '../../../src/model/job';
import { problemTypeOf } from '../../../src/problems';
import { expectProblem, renderJob, validJob } from './helpers';

function specOf(doc: unknown): JobSpec {
  const r = renderJob(doc);
  assert.deepEqual(r.problems, []);
  return r.jobs[0]!.spec;
}

function withApp(fields: Record<string, unknown>): Record<string, any> {
  const j = validJob();
  Object.assign(j.containers.app, fields);
  return j;
}

describe('pids, user, readOnlyRootfs', () => {
  test('absent at their defaults, so a job that spells the defaults out hashes like one that does not (no roll on upgrade)', () => {
    const plain = specOf(validJob());
    const spelled = specOf(withApp({ pids: 1024, readOnlyRootfs: false }));
    assert.deepEqual(spelled, plain);
    assert.equal('pids' in plain.containers[0]!, false);
    assert.equal(podTemplateHash(spelled), podTemplateHash(plain));
  });

  test('set values land in the spec and change the pod hash (the change rolls like any pod change)', () => {
    const base = podTemplateHash(specOf(validJob()));
    for (const fields of [{ pids: 64 }, { user: '1000' }, { readOnlyRootfs: true }]) {
      const spec = specOf(withApp(fields));
      assert.deepEqual(Object.fromEntries(Object.keys(fields).map((k) => [k, (spec.containers[0] as unknown as Record<string, unknown>)[k]])), fields);
      assert.notEqual(podTemplateHash(spec), base, JSON.stringify(fields));
    }
  });

  test('user: a number becomes a string; names and groups are kept as written', () => {
    for (const [raw, want] of [[1000, '1000'], ['1000:1000', '1000:1000'], ['nobody', 'nobody'], ['app:staff', 'app:staff'], [0, '0']] as const) {
      assert.equal(specOf(withApp({ user: raw })).containers[0]!.user, want);
    }
  });

  test('pids outside 8 … 65536, a malformed or out-of-range user and a non-boolean readOnlyRootfs are refused at the field', () => {
    expectProblem(withApp({ pids: 7 }), 'invalid-job', ['/containers/app/pids']);
    expectProblem(withApp({ pids: 65537 }), 'invalid-job', ['/containers/app/pids']);
    expectProblem(withApp({ pids: 1.5 }), 'invalid-job', ['/containers/app/pids']);
    expectProblem(withApp({ user: 'root; rm -rf /' }), 'invalid-job', ['/containers/app/user']);
    expectProblem(withApp({ user: '' }), 'invalid-job', ['/containers/app/user']);
    expectProblem(withApp({ user: -1 }), 'invalid-job', ['/containers/app/user']);
    expectProblem(withApp({ user: '1000:9999999999' }), 'invalid-job', ['/containers/app/user']);
    expectProblem(withApp({ readOnlyRootfs: 'yes' }), 'invalid-job', ['/containers/app/readOnlyRootfs']);
  });
});

describe('nothing in the format grants privilege, host namespaces or host paths', () => {
  // What a docker-compose (or docker run) user would write; each must be refused, none ignored.
  const containerKeys: Array<[string, unknown]> = [
    ['privileged', true],
    ['cap_add', ['NET_ADMIN']],
    ['cap_add', ['ALL']],
    ['cap_drop', []],
    ['security_opt', ['seccomp=unconfined']],
    ['network_mode', 'host'],
    ['pid', 'host'],
    ['ipc', 'host'],
    ['userns_mode', 'host'],
    ['devices', ['/dev/sda:/dev/sda']],
    ['sysctls', { 'net.ipv4.ip_forward': 1 }],
    ['ulimits', { nproc: 65535 }],
    ['pids_limit', -1],
    ['tmpfs', ['/run']],
  ];
  for (const [key, value] of containerKeys) {
    test(`container ${key}: ${JSON.stringify(value)}`, () => {
      const p = expectProblem(withApp({ [key]: value }), 'invalid-job', [`/containers/app/${key}`]);
      assert.match(p.errors![0]!.message, /unknown field/);
    });
  }

  test('job-level privileged, network_mode: host, pid: host, hostNetwork', () => {
    for (const [key, value] of [['privileged', true], ['network_mode', 'host'], ['pid', 'host'], ['hostNetwork', true]] as const) {
      const j = validJob();
      j[key] = value;
      expectProblem(j, 'invalid-job', [`/${key}`]);
    }
  });

  test('host-path volumes: compose short syntax, a bind, a type the format does not know, a host `source`, bind options smuggled in the path', () => {
    const volumes: unknown[] = [
      '/etc:/host-etc',
      '/var/run/docker.sock:/var/run/docker.sock',
      { type: 'bind', source: '/', target: '/host' },
      { type: 'local', path: '/data', space: '1G', source: '/etc' },
      { type: 'host', path: '/data', space: '1G' },
      { type: 'local', path: '/data', space: '1G', hostPath: '/' },
      // A colon would make the rest of the engine's bind string ("<ours>:<path>") options or a second path.
      { type: 'local', path: '/data:/etc', space: '1G' },
      { type: 'local', path: '/data:rshared', space: '1G' },
    ];
    for (const v of volumes) {
      const r = renderJob(withApp({ volumes: [v] }));
      assert.equal(r.jobs.length, 0, `accepted ${JSON.stringify(v)}`);
      assert.deepEqual(r.problems.map((p) => problemTypeOf(p.problem)), ['invalid-volume'], JSON.stringify(v));
      const pointers = (r.problems[0]!.problem.errors ?? []).map((e) => e.pointer);
      assert.ok(pointers.every((p) => p.startsWith('/containers/app/volumes/0')), `${JSON.stringify(v)}: ${pointers.join(', ')}`);
    }
  });
});
