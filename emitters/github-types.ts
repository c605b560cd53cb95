// The GitHub emitter's types, apart from the emitter itself (github.ts), so that each part
// of the workflow (github-job.ts, github-resolve.ts, ...) names them without importing it.

import type { ImageNode } from "../core/graph.ts";
import type { InstallOptions } from "./github-install.ts";

export interface GithubOptions extends Record<string, string | number | boolean>, InstallOptions {
  format: string;
  job: string;
  output: string;
  name: string;
  "runs-on": string;
  login: boolean;
  registry: string;
  username: string;
  "password-secret": string;
  "content-tags": boolean;
  "free-disk": boolean;
  "check-outputs": boolean;
  "timeout-minutes": number;
  "platform-runners": string;
  "workload-identity-provider": string;
  "service-account": string;
  "lock-commit": string;
  "lock-token-secret": string;
}

export interface StageJob {
  readonly name: string;
  readonly stage: number;
  readonly images: readonly ImageNode[];
  /** Each image's matrix entry as JSON, ready to write. */
  readonly entries: readonly string[];
  readonly needs: readonly string[];
  /** Whether its entries name their runner (some family has `runner`). */
  readonly runners: boolean;
  /** A stage's images (build), one platform's build of its native images each (native), or their join (merge). */
  readonly kind: "build" | "native" | "merge";
  /** Whether some image of the graph is built a job per platform: its stage-job entries then say `native`. */
  readonly anyNative: boolean;
}
