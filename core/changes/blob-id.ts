// A file's digest in a context is its git blob object id: the hash of `blob <size>\0`
// and the bytes, what `git hash-object` prints in a (SHA-1) repository. So a file that
// git's index or a revision's tree already names need not be read (cli/git-index.ts,
// cli/git-tree.ts), and a folder outside any repository gives the very same digests,
// hashed here. Always SHA-1, whatever the repository's object format: in a repository
// made with `--object-format=sha256`, git's ids are of another hash and files are read.

/** The SHA-1 git blob id (40 lowercase hex digits) of `content`, as `git hash-object` computes it. */
export function blobId(content: Uint8Array | string): string {
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  const hasher = new Bun.CryptoHasher("sha1");
  hasher.update(`blob ${bytes.byteLength}\0`);
  hasher.update(bytes);
  return hasher.digest("hex");
}

/** Whether `id` is a SHA-1 object id (git's in a SHA-1 repository), which is a blobId. */
export function isSha1Id(id: string): boolean {
  return id.length === 40;
}
