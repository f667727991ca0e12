// Docker image references, following the grammar of
// github.com/distribution/reference (regexp.go):
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [domain '/'] path-component ['/' path-component]*
//   domain    := host [':' port]
// Lowercase repository paths; tags [\w][\w.-]{0,127}; digests algo:hex(32+).

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);

/** distribution/reference's NameTotalLengthMax. */
export const MAX_IMAGE_NAME_LENGTH = 255;

/** Why `ref` is not a valid image reference, or undefined when it is. */
export function imageReferenceProblem(ref: string): string | undefined {
  // Length first: it also bounds the regular expression's work.
  if (ref.length > 512) return 'is longer than 512 characters';
  const m = REFERENCE.exec(ref);
  if (!m) {
    if (REFERENCE.test(ref.toLowerCase())) return 'has uppercase letters in the repository name, which must be lowercase';
    return 'does not match [registry[:port]/]name[:tag][@digest]';
  }
  if (m[1]!.length > MAX_IMAGE_NAME_LENGTH) return `has a name longer than ${MAX_IMAGE_NAME_LENGTH} characters`;
  return undefined;
}
