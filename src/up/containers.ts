// Removing the containers of `ozy up`'s own nodes at shutdown. The agents
// themselves leave containers running when they stop (a restarted agent
// adopts them); `ozy up` started these nodes, so it cleans up after them,
// touching only containers labelled ozy.node=<one of its nodes>.
import { createEngine, LABEL, type ContainerEngine, type InspectedContainer } from '../runtime';

/** Force-removes every container of `nodes`; returns how many were removed. */
export async function removeNodeContainers(socketPath: string, nodes: readonly string[], engine: ContainerEngine = createEngine({ socketPath, registryAuth: [] })): Promise<number> {
  let removed = 0;
  // Several passes: a pod's namespace owner can only go once the containers joining it are gone.
  for (let pass = 0; pass < 4; pass++) {
    const mine: InspectedContainer[] = [];
    for (const node of nodes) mine.push(...(await engine.listManaged(node)));
    if (mine.length === 0) return removed;
    // Owners last within a pass.
    mine.sort((a, b) => Number(a.labels[LABEL.owner] === 'true') - Number(b.labels[LABEL.owner] === 'true'));
    for (const c of mine) {
      try {
        await engine.remove(c.id, { force: true });
        removed++;
      } catch {
        // a dependent still holds it: the next pass retries
      }
    }
  }
  return removed;
}
