// A real docker engine for the end-to-end checks, without a system service: Debian 13's
// dockerd, docker CLI, containerd and docker-init as scripts/e2e/install-tools.sh unpacks
// them (.cache/e2e/docker-engine/bin, or CALIBAN_E2E_DOCKERD / CALIBAN_E2E_DOCKER), and
// the machine's own runc (Debian 13's needs glibc 2.38). Every state folder, socket, pid
// file and log is under the scratch folder given; no iptables, no bridge, vfs storage, so
// a Dockerfile with a RUN step needs `--network=host` (chains here are RUN-free:
// `COPY busybox /bin/busybox`).
//
// containerd is started here too, with its own socket, rather than left to dockerd:
// dockerd adopts /run/containerd/containerd.sock whenever that exists (a CI machine's
// system containerd), and its images and containers would land there.
//
// A registry on 127.0.0.1:PORT is plain http: dockerd counts 127.0.0.0/8 as an insecure
// registry by default (`docker info`: "Insecure Registries: 127.0.0.0/8"), so `docker
// push` there needs nothing; `docker manifest inspect` needs `--insecure`.

import { afterAll, beforeAll } from "bun:test";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const CACHE = join(import.meta.dir, "../../.cache/e2e");
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// sun_path is 108 bytes on Linux, its last one the terminating zero.
const SOCKET_PATH_MAX = 107;

export interface DockerEngine {
  /** For the docker CLI: DOCKER_HOST (this engine) and DOCKER_CONFIG (a fresh one, buildx linked in). */
  env: { DOCKER_HOST: string; DOCKER_CONFIG: string };
  /** The docker CLI that comes with this dockerd. */
  docker: string;
  /** dockerd's pid. */
  pid: number;
  /** dockerd's and containerd's output, for a failure's message. */
  log(): string;
  /** Stops dockerd, then containerd, and waits until both have exited. */
  stop(): Promise<void>;
}

/** Starts containerd and dockerd with their state in `scratch`, an empty folder with a short path (sockets go there), and waits until `docker version` answers. */
export async function startDockerEngine(scratch: string, options: { timeoutMs?: number; daemon?: Record<string, unknown>; storageDriver?: string } = {}): Promise<DockerEngine> {
  const dockerd = process.env.CALIBAN_E2E_DOCKERD ?? join(CACHE, "docker-engine/bin/dockerd");
  const bin = dirname(dockerd);
  const docker = process.env.CALIBAN_E2E_DOCKER ?? join(bin, "docker");
  for (const tool of [dockerd, docker, join(bin, "containerd")]) {
    if (!existsSync(tool)) throw new Error(`docker engine: ${tool} is missing: run scripts/e2e/install-tools.sh`);
  }
  const buildx = [process.env.DOCKER_CONFIG, join(CACHE, "docker-config")]
    .filter((config): config is string => !!config)
    .map((config) => join(config, "cli-plugins/docker-buildx"))
    .find((plugin) => existsSync(plugin));
  if (!buildx) throw new Error("docker engine: no docker-buildx plugin: run scripts/e2e/install-tools.sh");

  const socket = join(scratch, "docker.sock");
  const containerdSocket = join(scratch, "containerd/containerd.sock");
  for (const path of [socket, containerdSocket]) {
    if (path.length > SOCKET_PATH_MAX) throw new Error(`docker engine: the socket path ${path} is longer than ${SOCKET_PATH_MAX} bytes: use a shorter scratch folder`);
  }
  const config = join(scratch, "docker-config");
  mkdirSync(join(config, "cli-plugins"), { recursive: true });
  symlinkSync(realpathSync(buildx), join(config, "cli-plugins/docker-buildx"));
  mkdirSync(join(scratch, "containerd"), { recursive: true });
  writeFileSync(
    join(scratch, "containerd/config.toml"),
    [
      "version = 2",
      `root = ${JSON.stringify(join(scratch, "containerd/root"))}`,
      `state = ${JSON.stringify(join(scratch, "containerd/state"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      `  address = ${JSON.stringify(containerdSocket)}`,
      "[debug]",
      `  address = ${JSON.stringify(join(scratch, "containerd/debug.sock"))}`,
      "",
    ].join("\n"),
  );
  // Not /etc/docker/daemon.json, whatever the machine has there.
  writeFileSync(join(scratch, "daemon.json"), `${JSON.stringify(options.daemon ?? {})}\n`);

  const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config };
  // containerd finds containerd-shim-runc-v2 and runc, dockerd docker-init, on this PATH.
  const path = `${bin}:${process.env.PATH ?? ""}:${SYSTEM_PATH}`;
  const logs = { containerd: join(scratch, "containerd.log"), dockerd: join(scratch, "dockerd.log") };
  const log = () =>
    Object.entries(logs)
      .map(([name, file]) => `--- ${name} (${file}):\n${existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-40).join("\n") : "(no log)"}`)
      .join("\n");
  const spawnLogged = (command: string[], file: string) => {
    const out = openSync(file, "a");
    try {
      return Bun.spawn(command, { env: { ...process.env, PATH: path }, stdin: "ignore", stdout: out, stderr: out });
    } finally {
      closeSync(out);
    }
  };

  const children: Child[] = [];
  // A test that dies before stop() leaves no daemon behind.
  const killAll = () => children.forEach((child) => running(child) && child.kill("SIGKILL"));
  process.once("exit", killAll);
  const stop = async () => {
    for (const child of children.toReversed()) await stopProcess(child);
    process.off("exit", killAll);
  };

  try {
    const containerd = spawnLogged([join(bin, "containerd"), "--config", join(scratch, "containerd/config.toml")], logs.containerd);
    children.push(containerd);
    await waitFor("containerd", containerd, () => existsSync(containerdSocket), log, options.timeoutMs);
    const daemon = spawnLogged(
      [
        dockerd,
        "--config-file", join(scratch, "daemon.json"),
        "--containerd", containerdSocket,
        "--data-root", join(scratch, "data"),
        "--exec-root", join(scratch, "exec"),
        "-H", env.DOCKER_HOST,
        "--pidfile", join(scratch, "pid"),
        "--iptables=false",
        "--bridge=none",
        `--storage-driver=${options.storageDriver ?? "vfs"}`,
      ],
      logs.dockerd,
    );
    children.push(daemon);
    const answers = async () => (await Bun.spawn([docker, "version"], { env: { ...process.env, ...env }, stdout: "ignore", stderr: "ignore" }).exited) === 0;
    await waitFor("dockerd", daemon, answers, log, options.timeoutMs);
    return { env, docker, pid: daemon.pid, log, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * An engine whose docker driver builds and pushes multi-platform images with attestations
 * (an index over each platform and its attestation manifest) and exports a registry cache:
 * containerd's image store, whose snapshotter for the vfs driver is `native`. The classic
 * store's docker driver refuses all three.
 */
export const MULTI_PLATFORM_ENGINE = { daemon: { features: { "containerd-snapshotter": true } }, storageDriver: "native" } as const;

type Child = ReturnType<typeof Bun.spawn>;

const running = (child: Child) => child.exitCode === null && child.signalCode === null;

/** Polls `ready` until it holds; fails at once if `child` exits, and after `timeoutMs`. */
async function waitFor(name: string, child: Child, ready: () => boolean | Promise<boolean>, log: () => string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running(child)) throw new Error(`docker engine: ${name} exited (${child.signalCode ?? child.exitCode}) before it was ready\n${log()}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`docker engine: ${name} was not ready after ${timeoutMs} ms\n${log()}`);
    await Bun.sleep(100);
  }
}

/** SIGTERM, then SIGKILL if it has not exited in 20 s; resolves once it has exited. */
async function stopProcess(child: Child) {
  if (!running(child)) return;
  child.kill("SIGTERM");
  // A timer, not Bun.sleep: cleared once the child has exited, it keeps no test waiting.
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await child.exited;
  clearTimeout(timer);
}

/**
 * The engine of one e2e test file, under a scratch folder of its own (`PREFIX...` in /tmp:
 * sockets need a short path): started before the file's tests, stopped after them, and
 * the folder removed (the engine's images and the registry's blobs: over 100 MB a run).
 * Call it at the file's top level; `engine()` is the started engine. `options`: see
 * MULTI_PLATFORM_ENGINE.
 */
export function engineForFile(prefix: string, options: { readonly daemon?: Record<string, unknown>; readonly storageDriver?: string } = {}): { readonly scratch: string; engine(): DockerEngine } {
  const scratch = mkdtempSync(`/tmp/${prefix}`);
  let engine: DockerEngine | undefined;
  beforeAll(async () => {
    engine = await startDockerEngine(join(scratch, "engine"), options);
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });
  return { scratch, engine: () => engine! };
}
