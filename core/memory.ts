// Keeping a large run's memory near what it holds. JavaScriptCore collects when its own
// heap has grown enough, and counts little of the text of the strings in it: planning,
// the graph's shape and emitting each make strings per image that are dead at once, and
// for 100,000 images the process grew to 400 MiB before a collection came (the graph
// itself is about 200). A collection asked for every so often runs beside the code that
// asked, and keeps the peak near what is live (bench/results.md has the figures).

/** Calls between two requests for a collection: per image for planning and the shape. */
export const IMAGES_PER_COLLECTION = 10_000;

/** A function to call once per unit of work: every `every` calls it asks for a collection (not waiting for it). */
export function collectionRequester(every: number): () => void {
  let count = 0;
  return () => {
    if (++count % every === 0) Bun.gc(false);
  };
}
