// requirements.mjs - what a test needs from the machine (root, a tool, a
// kernel feature) and what happens when it is missing. Outside CI a test
// that cannot run is skipped with its reason; under CI=true it fails, so a
// green CI run means every test ran. Used at module level by the test files
// (node:test registers tests synchronously on the main thread).

import { test } from 'node:test';

// Whether this run is a CI run (CI=true, as GitHub Actions, GitLab and most
// runners set it; CI=1 and CI=yes count too).
export const CI = /^(1|true|yes)$/i.test(process.env.CI || '');

// The value for node:test's `skip` option of a test that needs `condition`:
// false when it holds. When it does not: the reason outside CI (the test is
// skipped and node:test prints why); under CI=true a failing test named
// after the reason is registered next to it, so the run fails and says why.
//
//   test('ENOSPC on a real tmpfs', { skip: requireOrSkip(isRoot, 'needs root to mount a tmpfs') }, ...)
export function requireOrSkip(condition, reason) {
  if (condition) return false;
  if (CI) {
    test(`cannot run under CI=true: ${reason}`, () => {
      throw new Error(`a test needs something this machine lacks (${reason}); under CI=true every test must run`);
    });
  }
  return reason;
}
