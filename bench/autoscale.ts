// Autoscaling on CPU (docs/autoscaling.md), the two figures, on
// three `ozy agent` processes with real etcd, podman and git, at the
// agents' default sampling (2 s) and evaluation (1 s) periods:
//
// (1) Load step → first added instance healthy. One instance of an
//     autoscaled burner (min 1, max 2, target 50 %) idles; the bench creates
//     the load file in its shared volume and times, from the etcd watch:
//     the node's CPU record showing it above the band, the scale-up
//     committed (the job's count in etcd), the new ordinal `healthy` in its
//     status. Load off, back to one idle instance (scaleDownAfter 5s here,
//     only so the cycles are quick), a random 2–4 s so steps land anywhere
//     in the sampling cycle, again. Kubernetes' HPA: ~27 s on average,
//     ~55 s at worst.
// (2) Flapping at a steady load near the target (autoscale-flap.ts).
//
//   flock /tmp/ozy-integration.lock node dist/bench/run.js autoscale
//   OZY_BENCH_AUTOSCALE_STEPS=7 OZY_BENCH_FLAP_MINUTES=10 OZY_BENCH_AUTOSCALE_PARTS=step,flap
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { TOLERANCE } from '../src/autoscale/recommend';
import { merge, startClusterWithAgents, type TestCluster } from '../test/harness/cluster';
import { runFlapBench, type FlapResult } from './autoscale-flap';
import { autoscaledJob, sharedDir, STEP_BURNER } from './lib/autoscaled-job';
import { ClusterWatch } from './lib/cluster-watch';
import { prng } from './lib/stats';

const STEPS = Number(process.env.OZY_BENCH_AUTOSCALE_STEPS ?? 7);
const PARTS = (process.env.OZY_BENCH_AUTOSCALE_PARTS ?? 'step,flap').split(',');
const TARGET = 50;
const STEP_JOB = 'step';

export interface StepTiming {
  /** Load on → the node's CPU record shows instance 0 above the band (ms). */
  measuredMs: number;
  /** → the job's count is 2 in etcd. */
  committedMs: number;
  /** → ordinal 1 is `healthy` in its node's status, on the job's spec. */
  healthyMs: number;
}

export interface StepResult {
  targetPercent: number;
  max: number;
  scaleDownAfter: string;
  steps: StepTiming[];
}

export interface AutoscaleBenchResult {
  step?: StepResult;
  flap?: FlapResult;
}

async function runSteps(c: TestCluster, watch: ClusterWatch): Promise<StepResult> {
  const policy = { min: 1, max: 2, cpuPercent: TARGET, scaleDownAfter: '5s' };
  await merge(c.user, { [`jobs/${STEP_JOB}.yaml`]: autoscaledJob({ name: STEP_JOB, script: STEP_BURNER, instances: 1, ...policy }) }, 'step: autoscaled burner');
  const loadFile = path.join(sharedDir(c, STEP_JOB), 'load');
  fs.mkdirSync(path.dirname(loadFile), { recursive: true });
  const above = TARGET * (1 + TOLERANCE);
  const random = prng(0xa5ca1e);
  const steps: StepTiming[] = [];
  try {
    for (let i = 0; i < STEPS; i++) {
      // From one idle, healthy instance, the second one gone everywhere (its status too, so a stale `healthy` cannot count).
      await watch.when(
        'one idle instance',
        () => watch.count(STEP_JOB) === 1 && watch.healthy(STEP_JOB, 0) && !watch.hasStatus(`${STEP_JOB}-1`) && (watch.cpuPercent(`${STEP_JOB}-0`) ?? 100) < 10,
        120_000,
      );
      await delay(2000 + random() * 2000);
      const on = Date.now();
      fs.writeFileSync(loadFile, 'on\n');
      const [measured, committed, healthy] = await Promise.all([
        watch.when(`${STEP_JOB}-0 measured above ${above} %`, () => (watch.cpuPercent(`${STEP_JOB}-0`) ?? 0) > above, 90_000),
        watch.when('the scale-up committed', () => watch.count(STEP_JOB) >= 2, 90_000),
        watch.when(`${STEP_JOB}-1 healthy`, () => watch.healthy(STEP_JOB, 1), 90_000),
      ]);
      fs.rmSync(loadFile, { force: true });
      steps.push({ measuredMs: measured - on, committedMs: committed - on, healthyMs: healthy - on });
      console.log(`   autoscale step ${i + 1}/${STEPS}: measured ${measured - on} ms, committed ${committed - on} ms, healthy ${healthy - on} ms`);
    }
  } finally {
    fs.rmSync(loadFile, { force: true });
  }
  await merge(c.user, { [`jobs/${STEP_JOB}.yaml`]: null }, 'step: removed');
  await watch.when('the step job gone', () => watch.job(STEP_JOB) === undefined, 60_000);
  return { targetPercent: TARGET, max: policy.max, scaleDownAfter: policy.scaleDownAfter, steps };
}

export async function runAutoscaleBench(): Promise<AutoscaleBenchResult> {
  let c: TestCluster | undefined;
  let watch: ClusterWatch | undefined;
  try {
    // 256M nodes, 64M instances: up to 9 instances fit, so max 6 is never capped by capacity.
    // The bench removes each phase's job when it is done, which is every job: the repository opts out of the deletion guard.
    c = await startClusterWithAgents(['a', 'b', 'c'], { memory: '256M', files: { 'ozy.yaml': 'deletionGuard:\n  allowDeleteAll: true\n' } });
    watch = await ClusterWatch.open(c.store);
    const out: AutoscaleBenchResult = {};
    if (PARTS.includes('step')) out.step = await runSteps(c, watch);
    if (PARTS.includes('flap')) out.flap = await runFlapBench(c, watch, TARGET);
    return out;
  } finally {
    await watch?.close().catch(() => undefined);
    await c?.stop();
  }
}

if (require.main === module) {
  runAutoscaleBench().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
