// Compiles small programs into a temporary directory at test time.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { skipsForbidden } from "@xmc/tooling/test-tools";

/** A scratch directory for one test file; call `cleanup()` in afterAll. */
export class Scratch {
  readonly dir: string;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `xmc-elf-${prefix}-`));
  }

  /** Absolute path of `name` in the scratch directory. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes `text` to `name` and returns its path. */
  write(name: string, text: string): string {
    const p = this.path(name);
    writeFileSync(p, text);
    return p;
  }

  /** Runs `cmd args` in the scratch directory; throws with the tool's stderr on failure. */
  run(cmd: string, args: readonly string[]): void {
    try {
      execFileSync(cmd, args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${cmd} ${args.join(" ")} failed: ${err.stderr ?? err.message}`);
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * True when <sys/sdt.h> (Debian: systemtap-sdt-dev) is installed. When it is not: a loud
 * notice and false (the caller skips), or an error where skips are forbidden (CI).
 */
export function requireSdtHeader(): boolean {
  if (SDT_HEADERS.some((p) => existsSync(p))) return true;
  const msg = "required header sys/sdt.h missing (install systemtap-sdt-dev: see .ci/run)";
  if (skipsForbidden()) throw new Error(`${msg}; skips are forbidden here (XMC_FORBID_SKIP)`);
  process.stderr.write(`\n!!!!!!!! SKIPPING: ${msg} !!!!!!!!\n\n`);
  return false;
}

const SDT_HEADERS = ["/usr/include/x86_64-linux-gnu/sys/sdt.h", "/usr/include/sys/sdt.h"];
