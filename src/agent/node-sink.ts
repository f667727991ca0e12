// The NodeStatusSink over the ClusterStore: status and DNS keys hang on the
// node's lease, so they vanish with it when the node dies.
import type { ClusterStore, NodeSession } from '../store';
import type { NodeStatusSink } from './instance-publisher';

/**
 * `session` is asked on every write: after fencing the agent registers anew
 * and the writes follow the new lease.
 */
export function storeSink(store: ClusterStore, session: () => NodeSession): NodeStatusSink {
  return {
    putStatus: (s) => store.putInstanceStatus(session(), s),
    deleteStatus: (instance) => store.deleteInstanceStatus(session().node, instance),
    putDns: (key, rec) => store.putDnsRecord(session(), key, rec),
    deleteDns: (key) => store.deleteDnsRecord(key),
  };
}
