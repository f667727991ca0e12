// dockerode's transport, docker-modem, loads ssh2 when it is itself loaded,
// for `ssh://` engine addresses. ozy reaches the engine only through
// `--docker-socket` (a unix socket), so ssh2 is never used, yet loading it
// costs every agent ~12 MiB of RSS (its WebAssembly Poly1305 reserves a
// 16 MiB memory). Imported before dockerode: a stand-in takes ssh2's place
// in the module cache, and using it says why it is not there.
import Module from 'node:module';

function seedStandIn(): void {
  let id: string;
  try {
    id = require.resolve('ssh2');
  } catch {
    return; // not installed: docker-modem will say so itself
  }
  if (require.cache[id]) return; // already loaded by someone else: nothing to save
  class Client {
    constructor() {
      throw new Error('ozy reaches the container engine through a unix socket (--docker-socket); ssh:// engines are not supported');
    }
  }
  const standIn = new Module(id);
  standIn.filename = id;
  standIn.loaded = true;
  standIn.exports = { Client };
  require.cache[id] = standIn;
}

seedStandIn();
