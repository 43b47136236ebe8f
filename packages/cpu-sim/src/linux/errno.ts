/**
 * Linux errno values (asm-generic/errno-base.h and errno.h) and the result sentinels that
 * syscall handlers return besides `-errno`.
 * @module
 */

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const EFBIG = 27;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const EROFS = 30;
export const EMLINK = 31;
export const EPIPE = 32;
export const ERANGE = 34;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ENOTEMPTY = 39;
export const ELOOP = 40;
export const ENODATA = 61;
export const EOVERFLOW = 75;
export const ENOTSUP = 95;
export const ETIMEDOUT = 110;

/**
 * A handler's result meaning "the thread is parked": RAX is written when it is woken (or the
 * syscall is restarted, see `LinuxProcess.block`). Below -4095, so never a valid `-errno`.
 */
export const BLOCKED = -0x10000001;
/** A handler's result meaning "registers are already final" (rt_sigreturn, exit). */
export const NO_RESULT = -0x10000002;

/** Host (Node) error codes → Linux errno, for host filesystem calls. */
export function hostErrno(e: unknown): number {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return ENOENT;
    case "EACCES":
    case "EPERM":
      return EACCES;
    case "ENOTDIR":
      return ENOTDIR;
    case "EISDIR":
      return EISDIR;
    case "EEXIST":
      return EEXIST;
    case "ENOTEMPTY":
      return ENOTEMPTY;
    case "ELOOP":
      return ELOOP;
    case "EROFS":
      return EROFS;
    case "ENOSPC":
      return ENOSPC;
    case "EMFILE":
      return EMFILE;
    case "ENAMETOOLONG":
      return ENAMETOOLONG;
    case "EINVAL":
      return EINVAL;
    case "EBADF":
      return EBADF;
    case "EXDEV":
      return EXDEV;
    case "ESPIPE":
      return ESPIPE;
    case "EAGAIN":
      return EAGAIN;
    case "EPIPE":
      return EPIPE;
    default:
      return EIO;
  }
}
