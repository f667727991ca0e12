// A minimal POSIX ustar writer: enough for a small root filesystem
// (directories, regular files, symbolic links), so building the local test
// image needs neither a tar package nor the tar command. Pure: entries in,
// bytes out; fixed owner and mtime, so the same input gives the same bytes.

export type TarEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; content: Buffer | string; mode?: number }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;

export function tarArchive(entries: readonly TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const content = e.type === 'file' ? (typeof e.content === 'string' ? Buffer.from(e.content) : e.content) : Buffer.alloc(0);
    parts.push(header(e, content.length, mtime));
    if (content.length > 0) {
      parts.push(content);
      const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end-of-archive marker
  return Buffer.concat(parts);
}

function header(e: TarEntry, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const name = e.type === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
  const { prefix, rest } = splitName(name);
  const mode = e.type === 'symlink' ? 0o777 : (e.mode ?? (e.type === 'dir' ? 0o755 : 0o644));
  writeString(h, 0, 100, rest);
  writeOctal(h, 100, 8, mode);
  writeOctal(h, 108, 8, 0); // uid root
  writeOctal(h, 116, 8, 0); // gid root
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h.write(e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0', 156, 'latin1');
  if (e.type === 'symlink') writeString(h, 157, 100, e.target);
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** ustar keeps names over 100 bytes as prefix (155) + '/' + name (100). */
function splitName(name: string): { prefix: string; rest: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', rest: name };
  // The split may not fall on the trailing slash of a directory name.
  const cut = name.lastIndexOf('/', name.length - 2);
  const prefix = name.slice(0, cut);
  const rest = name.slice(cut + 1);
  if (cut <= 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(rest) > 100) {
    throw new Error(`path too long for a ustar archive: ${name}`);
  }
  return { prefix, rest };
}

function writeString(h: Buffer, at: number, len: number, s: string): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length > len) throw new Error(`tar header field too long: ${s}`);
  b.copy(h, at);
}

function writeOctal(h: Buffer, at: number, len: number, n: number): void {
  const s = n.toString(8).padStart(len - 1, '0');
  if (s.length > len - 1) throw new Error(`tar header number too large: ${n}`);
  h.write(`${s}\0`, at, 'latin1');
}
