import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the calling thread's scheduling priority (nice 10) on Linux, where each thread has its
 * own id (/proc/thread-self) and setpriority() applies to it alone. Code and import-check
 * threads call it so that, when cores are scarce (a 2-vCPU Lambda, a loaded host), the thread
 * that answers predictions wins the CPU and a hostile function delays nobody but its own
 * request. Elsewhere (macOS, Windows) it does nothing.
 */
export function lowerThreadPriority(nice = 10): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
