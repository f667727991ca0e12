// Splitting an image reference the way the Docker Engine API wants it for a
// pull (fromImage + tag), and finding the registry it lives on (to decide
// whether credentials may be sent there). References are validated by the
// renderer (src/render/image-ref.ts); this only takes them apart.

export interface ImageRef {
  /** Registry host[:port]; `docker.io` for unqualified names. */
  registry: string;
  /** The reference without tag or digest, as written (`nginx`, `127.0.0.1:5000/app`). */
  repository: string;
  /** Tag or digest (`sha256:...`). Always set: `latest` when the reference has neither. */
  tagOrDigest: string;
}

export const DEFAULT_REGISTRY = 'docker.io';

export function parseImageRef(ref: string): ImageRef {
  let rest = ref;
  let tagOrDigest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    tagOrDigest = rest.slice(at + 1);
    // A reference may carry both (`app:1@sha256:...`): the digest wins, as in Docker.
    rest = rest.slice(0, at);
  }
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tagOrDigest ??= rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
  }
  return { registry: registryOf(rest), repository: rest, tagOrDigest: tagOrDigest ?? 'latest' };
}

/** `fromImage`-style full reference with an explicit tag (never "all tags"). */
export function formatImageRef(r: ImageRef): string {
  const sep = r.tagOrDigest.includes(':') ? '@' : ':';
  return `${r.repository}${sep}${r.tagOrDigest}`;
}

// Docker's rule: the first path component names a registry when it looks
// like a host (has a dot or a port) or is "localhost".
function registryOf(repository: string): string {
  const slash = repository.indexOf('/');
  if (slash < 0) return DEFAULT_REGISTRY;
  const first = repository.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return first;
  return DEFAULT_REGISTRY;
}
