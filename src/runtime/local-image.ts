// The local test image: a busybox-static root filesystem imported through
// the Engine API (POST /images/create?fromSrc=-), because no registry is
// reachable on test machines. Used by tests and by `ozy up`.
//
// Contents: /bin/busybox and one symlink per applet (`busybox --list`),
// /www/index.html (for httpd), /tmp, /etc/passwd and /etc/group, /root;
// PATH=/bin is set in the image config, but job files should still call
// programs by full path (/bin/sh) so they also work with images without it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createEngine, type ContainerEngine } from './engine';
import { ImageBuildError } from './errors';
import { tarArchive, type TarEntry } from './tar';

export const BUSYBOX_IMAGE = 'localhost/ozy-busybox:1';

/** Where Debian's busybox-static (and most distributions) put the binary. */
const BUSYBOX_CANDIDATES = ['/usr/bin/busybox', '/bin/busybox', '/usr/sbin/busybox', '/sbin/busybox'];

/** The index page httpd serves from /www. */
export const BUSYBOX_INDEX_HTML = 'ozymandias busybox image\n';

export interface BuildBusyboxOptions {
  /** The busybox binary to use (must be statically linked). Default: OZY_BUSYBOX, else the first found on the usual paths. */
  busyboxPath?: string;
}

/**
 * Builds and imports the busybox image under `tag` unless it already
 * exists. Returns what it did.
 */
export async function buildBusyboxImage(
  engineOrSocket: ContainerEngine | string,
  tag = BUSYBOX_IMAGE,
  opts: BuildBusyboxOptions = {},
): Promise<'present' | 'built'> {
  const engine = typeof engineOrSocket === 'string' ? createEngine({ socketPath: engineOrSocket, registryAuth: [] }) : engineOrSocket;
  if (await engine.imageExists(tag)) return 'present';
  const binPath = opts.busyboxPath ?? process.env.OZY_BUSYBOX ?? findBusybox();
  const binary = fs.readFileSync(binPath);
  if (!isStaticElf(binary)) {
    throw new ImageBuildError(`${binPath} is not a statically linked ELF executable; install busybox-static`);
  }
  const applets = execFileSync(binPath, ['--list'], { encoding: 'utf8' }).split('\n');
  const tar = tarArchive(busyboxRootfs(binary, applets));
  await engine.importImage(tar, tag, { changes: ['ENV PATH=/bin', 'CMD ["/bin/sh"]'] });
  return 'built';
}

export function findBusybox(): string {
  const found = BUSYBOX_CANDIDATES.find((p) => fs.existsSync(p));
  if (found === undefined) throw new ImageBuildError(`busybox not found (looked at ${BUSYBOX_CANDIDATES.join(', ')}); install busybox-static`);
  return found;
}

/** The root filesystem's entries (pure). Applet names that are not plain file names are skipped. */
export function busyboxRootfs(busybox: Buffer, applets: readonly string[]): TarEntry[] {
  const names = [...new Set(applets.map((a) => a.trim()))].filter((a) => /^[A-Za-z0-9_.[\]-]+$/.test(a) && a !== 'busybox' && a !== '.' && a !== '..').sort();
  return [
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 },
    ...names.map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    { type: 'symlink', path: 'sbin', target: 'bin' },
    { type: 'dir', path: 'usr' },
    { type: 'symlink', path: 'usr/bin', target: '../bin' },
    { type: 'symlink', path: 'usr/sbin', target: '../bin' },
    { type: 'dir', path: 'etc' },
    { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' },
    { type: 'file', path: 'etc/group', content: 'root:x:0:\nnobody:x:65534:\n' },
    { type: 'dir', path: 'root', mode: 0o700 },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'www' },
    { type: 'file', path: 'www/index.html', content: BUSYBOX_INDEX_HTML },
  ];
}

/** An ELF executable without a PT_INTERP program header needs no dynamic loader. */
export function isStaticElf(buf: Buffer): boolean {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (at: number): number => (le ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const phoff = is64 ? Number(le ? buf.readBigUInt64LE(32) : buf.readBigUInt64BE(32)) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > buf.length) return false;
    if (u32(at) === 3 /* PT_INTERP */) return false;
  }
  return true;
}
