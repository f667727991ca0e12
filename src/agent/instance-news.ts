// What a supervisor has heard about its containers since it last looked,
// and so what its next round must do: ask the engine (an event came: a
// start, kill, die, OOM kill), use the node's resync listing (no engine
// call), or nothing at all (the idle case). Pure: no I/O, no clock.
import type { EngineEvent, InspectedContainer } from '../runtime';

/** Events that change what a container is doing; create, init, cleanup... do not. */
const NEWS = new Set<EngineEvent['action']>(['start', 'kill', 'die', 'oom', 'stop', 'destroy']);

export type NextLook = { kind: 'ask' } | { kind: 'listing'; found: InspectedContainer[] };

export class InstanceNews {
  private due: boolean;
  private fed: InspectedContainer[] | undefined;
  private gen = 0;

  /** `due`: nothing is known yet (adopted containers): the first round asks. */
  constructor(due: boolean) {
    this.due = due;
  }

  /**
   * Bumped when a start or restart begins and when it ends: a listing taken
   * across one may show a container mid-restart, so it is not trusted.
   */
  get generation(): number {
    return this.gen;
  }

  bump(): void {
    this.gen++;
  }

  /** An engine event about one of the containers; true when it is news (wake the loop). */
  heard(ev: EngineEvent): boolean {
    if (!NEWS.has(ev.action)) return false;
    this.due = true;
    return true;
  }

  /** Ask the engine at the next round (after a start or restart, or when asking failed). */
  lookAgain(): void {
    this.due = true;
  }

  /** The node's resync listing, taken at `generation`; a listing that overlapped a (re)start means: ask yourself. */
  offered(found: InspectedContainer[], generation: number): void {
    if (generation === this.gen) this.fed = found;
    else this.due = true;
  }

  /** The engine must be asked (an event, a start, a failed look). */
  get pending(): boolean {
    return this.due;
  }

  /** What the round should look at, and forget it: news that comes meanwhile is news again. */
  take(): NextLook | undefined {
    if (this.due) {
      this.due = false;
      this.fed = undefined;
      return { kind: 'ask' };
    }
    const found = this.fed;
    this.fed = undefined;
    return found === undefined ? undefined : { kind: 'listing', found };
  }
}
