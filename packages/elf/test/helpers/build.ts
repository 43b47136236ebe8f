// Compiles small programs into a temporary directory at test time.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
