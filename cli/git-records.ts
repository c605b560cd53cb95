// git's -z listings (`ls-files -s`, `ls-tree -r`): records of `<fields> TAB <path> NUL`,
// read in place, as offsets into the text: a context of 20,000 files is 20,000 records,
// and no string is made for a part the reader does not ask for.

/** Calls `visit(start, tab, end)` for each record: its fields are text[start, tab), its path text[tab + 1, end). A `false` from `visit` stops; returns whether every record was visited. */
export function forEachPathRecord(text: string, visit: (start: number, tab: number, end: number) => boolean | void): boolean {
  for (let start = 0; start < text.length; ) {
    const nul = text.indexOf("\0", start);
    const end = nul < 0 ? text.length : nul;
    const tab = text.indexOf("\t", start);
    if (tab > start && tab < end && visit(start, tab, end) === false) return false;
    start = end + 1;
  }
  return true;
}
