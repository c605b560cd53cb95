import { afterEach, expect, test } from "bun:test";
import { collectionRequester } from "./memory.ts";

const realGc = Bun.gc;
afterEach(() => {
  Bun.gc = realGc;
});

test("a collection is asked for on every Nth call, without waiting for it", () => {
  const asked: boolean[] = [];
  Bun.gc = ((force?: boolean) => void asked.push(force ?? false)) as typeof Bun.gc;
  const request = collectionRequester(3);
  for (let i = 0; i < 7; i++) request();
  expect(asked).toEqual([false, false]);
});
