/**
 * The guest's view of files. The host filesystem is invisible unless a host directory is
 * mapped as the guest's `/` (`--fs DIR`), read-only unless `writable`. Paths are resolved here,
 * component by component, never by the host: `..` above the root, absolute symlinks and
 * symlinks that lead out of the root are refused with EACCES, so a guest path can only ever
 * name something inside the mapped directory. A few virtual files exist without a mapping:
 * /dev/null, /dev/zero, /dev/random, /dev/urandom, /proc/self/exe (a symlink to the program)
 * and /sys/devices/system/cpu/{online,possible}.
 * @module
 */
import { lstatSync, readlinkSync } from "node:fs";
import { EACCES, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, hostErrno } from "./errno.ts";

/** A file that exists only in the guest. */
export type VirtualNode =
  | { kind: "dev"; name: "null" | "zero" | "random" }
  | { kind: "file"; content: Uint8Array }
  | { kind: "link"; target: string }
  | { kind: "dir" };

/** A resolved guest path. */
export interface Resolved {
  /** Normalized absolute guest path. */
  guest: string;
  /** Host path (inside the root) when the path is on the mapped directory. */
  host: string | undefined;
  /** The virtual node when the path is virtual. */
  virt: VirtualNode | undefined;
  /** False when only the last component is missing (O_CREAT may create it). */
  exists: boolean;
}

/** Options of the guest filesystem. */
export interface GuestFsOptions {
  /** Host directory mapped as `/`, or undefined for none. */
  root?: string | undefined;
  /** Allow writes (create, truncate, write) under the root. */
  writable?: boolean | undefined;
  /** What /proc/self/exe points to. */
  exe: string;
  /** Number of CPUs (for /sys/devices/system/cpu/online). */
  cpus: number;
}

const MAX_LINKS = 40;

/** Path resolution and the virtual files. */
export class GuestFs {
  readonly root: string | undefined;
  readonly writable: boolean;
  /** Current directory (normalized absolute guest path). */
  cwd = "/";
  private readonly virt = new Map<string, VirtualNode>();

  constructor(opts: GuestFsOptions) {
    this.root = opts.root?.replace(/\/+$/, "") || (opts.root === undefined ? undefined : "/");
    this.writable = opts.writable ?? false;
    const enc = new TextEncoder();
    const cpus = opts.cpus > 1 ? `0-${opts.cpus - 1}\n` : "0\n";
    const nodes: [string, VirtualNode][] = [
      ["/dev/null", { kind: "dev", name: "null" }],
      ["/dev/zero", { kind: "dev", name: "zero" }],
      ["/dev/random", { kind: "dev", name: "random" }],
      ["/dev/urandom", { kind: "dev", name: "random" }],
      ["/proc/self/exe", { kind: "link", target: opts.exe }],
      ["/sys/devices/system/cpu/online", { kind: "file", content: enc.encode(cpus) }],
      ["/sys/devices/system/cpu/possible", { kind: "file", content: enc.encode(cpus) }],
    ];
    for (const [p, n] of nodes) {
      this.virt.set(p, n);
      // Every parent is a virtual directory.
      for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1))
        this.virt.set(p.slice(0, i), { kind: "dir" });
    }
  }

  /** Host path of a guest path made of validated components. */
  private hostOf(parts: readonly string[]): string {
    const r = this.root === "/" ? "" : this.root!;
    return parts.length === 0 ? this.root! : `${r}/${parts.join("/")}`;
  }

  /**
   * Resolve `path` relative to the guest directory `base` (absolute, normalized). `follow`:
   * follow a symlink in the last component. Returns a {@link Resolved} or a negative errno.
   */
  resolve(path: string, base: string, follow: boolean): Resolved | number {
    if (path.length === 0) return -ENOENT;
    if (path.length >= 4096) return -ENAMETOOLONG;
    const todo = (path.startsWith("/") ? path : `${base}/${path}`).split("/").reverse();
    const parts: string[] = [];
    let links = 0;
    while (todo.length > 0) {
      const name = todo.pop()!;
      if (name === "" || name === ".") continue;
      if (name === "..") {
        // SAFETY: the root is the top; leaving it is the escape we refuse.
        if (parts.length === 0) return -EACCES;
        parts.pop();
        continue;
      }
      if (name.length > 255) return -ENAMETOOLONG;
      parts.push(name);
      const last = !todo.some((x) => x !== "" && x !== ".");
      const guest = `/${parts.join("/")}`;
      const v = this.virt.get(guest);
      if (v) {
        if (v.kind === "link" && (!last || follow)) {
          if (++links > MAX_LINKS) return -ELOOP;
          if (!v.target.startsWith("/")) return -EACCES;
          parts.length = 0;
          todo.push(...v.target.split("/").reverse());
          continue;
        }
        if (last) return { guest, host: undefined, virt: v, exists: true };
        if (v.kind !== "dir") return -ENOTDIR;
        continue;
      }
      if (this.root === undefined)
        return last && this.isVirtualDir(parts.slice(0, -1)) ? missing(guest) : -ENOENT;
      const host = this.hostOf(parts);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(host);
      } catch (e) {
        const err = hostErrno(e);
        if (err === ENOENT && last) return { guest, host, virt: undefined, exists: false };
        return -err;
      }
      if (st.isSymbolicLink() && (!last || follow)) {
        if (++links > MAX_LINKS) return -ELOOP;
        let target: string;
        try {
          target = readlinkSync(host);
        } catch (e) {
          return -hostErrno(e);
        }
        // An absolute symlink names a host path: refused (it would leave the root).
        if (target.startsWith("/")) return -EACCES;
        parts.pop();
        todo.push(...target.split("/").reverse());
        continue;
      }
      if (!last && !st.isDirectory()) return -ENOTDIR;
    }
    const guest = `/${parts.join("/")}`;
    if (parts.length === 0) {
      if (this.root === undefined)
        return { guest: "/", host: undefined, virt: { kind: "dir" }, exists: true };
      return { guest: "/", host: this.root, virt: undefined, exists: true };
    }
    // A trailing "." or "" after the last real component (e.g. "dir/"): re-check it.
    const v = this.virt.get(guest);
    if (v) return { guest, host: undefined, virt: v, exists: true };
    if (this.root === undefined) return -ENOENT;
    return { guest, host: this.hostOf(parts), virt: undefined, exists: true };
  }

  private isVirtualDir(parts: readonly string[]): boolean {
    return parts.length === 0 || this.virt.get(`/${parts.join("/")}`)?.kind === "dir";
  }

  /** Names in a virtual directory. */
  virtualChildren(guestDir: string): string[] {
    const prefix = guestDir === "/" ? "/" : `${guestDir}/`;
    const out = new Set<string>();
    for (const p of this.virt.keys())
      if (p.startsWith(prefix)) {
        const rest = p.slice(prefix.length);
        if (rest && !rest.includes("/")) out.add(rest);
      }
    return [...out].sort();
  }
}

function missing(guest: string): Resolved {
  return { guest, host: undefined, virt: undefined, exists: false };
}
