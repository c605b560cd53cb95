// A file's digest in a context is its git blob object id: the hash of `blob <size>\0`
// and the bytes, what `git hash-object` prints. So a file that git's index or a
// revision's tree already names need not be read (cli/git-index.ts, cli/git-tree.ts),
// and a folder outside any repository gives the very same digests, hashed here.

/** A repository's object format: sha1 almost everywhere; sha256 where `git init --object-format=sha256` chose it. */
export type ObjectFormat = "sha1" | "sha256";

/** The git blob id (lowercase hex) of `content`, as `git hash-object` computes it in a repository of `format`. */
export function blobId(content: Uint8Array | string, format: ObjectFormat = "sha1"): string {
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  const hasher = new Bun.CryptoHasher(format);
  hasher.update(`blob ${bytes.byteLength}\0`);
  hasher.update(bytes);
  return hasher.digest("hex");
}
