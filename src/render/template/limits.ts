// Resource bounds for rendering untrusted templates. A chart comes from a
// repository anyone with push access controls, so every way a template can
// spend time or memory (loops, recursion, string growth, output) is counted
// against one budget per render and fails with a located error, never a hang.
import { LimitExceeded } from './errors';

export interface Limits {
  /** Evaluation steps (nodes, function calls, loop iterations, values visited). Default 1,000,000. */
  maxSteps: number;
  /** Characters of output for the whole chart, all documents together. Default 2 MiB. */
  maxOutputChars: number;
  /** Characters in any single string a template builds (include results, printf, ...). Default 2 MiB. */
  maxStringChars: number;
  /** Characters produced in total, output and intermediate strings alike. Default 32 MiB. */
  maxProducedChars: number;
  /** Depth of nested template/include/tpl calls. Default 50. */
  maxTemplateDepth: number;
  /** Nesting of control structures and parentheses in the source, and of values serialized. Default 64. */
  maxNesting: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxSteps: 1_000_000,
  maxOutputChars: 2 * MiB,
  maxStringChars: 2 * MiB,
  maxProducedChars: 32 * MiB,
  maxTemplateDepth: 50,
  maxNesting: 64,
});

export class Budget {
  private steps = 0;
  private produced = 0;
  private output = 0;
  /** Set once a budget-wide bound was hit: every later evaluation would fail the same way. */
  exhausted = false;

  constructor(readonly limits: Readonly<Limits>) {}

  private exceed(message: string): never {
    this.exhausted = true;
    throw new LimitExceeded(message);
  }

  /** Spends `n` evaluation steps. */
  step(n = 1): void {
    this.steps += n;
    if (this.steps > this.limits.maxSteps) {
      this.exceed(`template evaluation exceeded ${this.limits.maxSteps} steps (endless loop or recursion?)`);
    }
  }

  /** Refuses, before it is built, a string of `length` characters. */
  checkLength(length: number): void {
    if (length > this.limits.maxStringChars) {
      throw new LimitExceeded(`string of ${length} characters exceeds the limit of ${this.limits.maxStringChars}`);
    }
  }

  /** Accounts for a string that was just built and returns it. */
  produce(s: string): string {
    this.checkLength(s.length);
    this.produced += s.length;
    if (this.produced > this.limits.maxProducedChars) {
      this.exceed(`templates produced more than ${this.limits.maxProducedChars} characters in total`);
    }
    return s;
  }

  /** Accounts for characters written to a chart's documents. */
  emit(length: number): void {
    this.output += length;
    if (this.output > this.limits.maxOutputChars) {
      this.exceed(`chart output exceeds ${this.limits.maxOutputChars} characters`);
    }
  }
}

/** Where an action's text goes: a document (counts as chart output) or an include's buffer. */
export class Output {
  private readonly parts: string[] = [];
  private length = 0;

  constructor(
    private readonly budget: Budget,
    private readonly isDocument: boolean,
  ) {}

  write(s: string): void {
    if (s === '') return;
    this.budget.checkLength(this.length + s.length);
    this.budget.produce(s);
    if (this.isDocument) this.budget.emit(s.length);
    this.length += s.length;
    this.parts.push(s);
  }

  text(): string {
    return this.parts.join('');
  }
}
