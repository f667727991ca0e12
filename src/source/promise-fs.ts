// The file system handed to isomorphic-git. isomorphic-git wraps the fs it
// is given again on every API call, and learns whether it returns promises
// by calling readFile() with no arguments — twice per call. Against
// node:fs that builds and throws away an ERR_INVALID_ARG_TYPE error each
// time (about 80 µs measured; a cold read of 5,000 blobs is 10,000 of
// them). Here that probe gets an already settled promise instead; every
// real call goes to node:fs.promises unchanged.
import * as nodeFs from 'node:fs';
import type { PromiseFsClient } from 'isomorphic-git';

export function promiseFs(): PromiseFsClient {
  const p = nodeFs.promises;
  const probe = Promise.resolve(undefined);
  const readFile = (...args: unknown[]): Promise<unknown> =>
    args.length === 0 ? probe : (p.readFile as (...a: unknown[]) => Promise<unknown>)(...args);
  return {
    promises: {
      readFile,
      writeFile: p.writeFile.bind(p),
      unlink: p.unlink.bind(p),
      readdir: p.readdir.bind(p),
      mkdir: p.mkdir.bind(p),
      rmdir: p.rmdir.bind(p),
      stat: p.stat.bind(p),
      lstat: p.lstat.bind(p),
      readlink: p.readlink.bind(p),
      symlink: p.symlink.bind(p),
      chmod: p.chmod.bind(p),
      // isomorphic-git uses rm and cp when the fs has them (PromiseFsClient does not list them).
      ...{ rm: p.rm.bind(p), cp: p.cp.bind(p) },
    },
  };
}
