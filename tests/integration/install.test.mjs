// `make install` honours DESTDIR: the programs, UI, config and units land in
// the FHS places, and the installed hub starts from the installed files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, ROOT, freePort, tempDir, waitFor } from '../lib/harness.mjs';

test('make install DESTDIR=... puts everything in place and the installed hub runs', async () => {
  const destination = tempDir('doorstep-install-');
  try {
    execFileSync('make', ['-C', ROOT, '--no-print-directory', 'install', `DESTDIR=${destination.dir}`], { stdio: 'pipe' });
    const at = (path) => join(destination.dir, path);
    for (const path of ['usr/local/sbin/doorstepd', 'usr/local/sbin/doorbelld', 'usr/local/bin/doorstep',
      'usr/local/share/doorstep/www/index.html', 'usr/local/share/doorstep/db/migrations/0001_initial.sql',
      'usr/local/lib/systemd/system/doorstepd.service', 'usr/local/lib/systemd/system/doorbelld.service',
      'etc/doorstep/doorstepd.conf', 'usr/local/share/doc/doorstep/README.md']) {
      assert.ok(existsSync(at(path)), path);
    }
    const unit = readFileSync(at('usr/local/lib/systemd/system/doorstepd.service'), 'utf8');
    assert.match(unit, /ExecStart=\/usr\/local\/sbin\/doorstepd --config \/etc\/doorstep\/doorstepd.conf/);
    assert.doesNotMatch(unit, /@[A-Z]+@/);
    assert.match(readFileSync(at('etc/doorstep/doorstepd.conf'), 'utf8'), /www_dir = \/usr\/local\/share\/doorstep\/www/);

    // The installed binary, with the installed config (data and UI moved into DESTDIR).
    const port = await freePort();
    const hub = spawn(at('usr/local/sbin/doorstepd'), ['--config', at('etc/doorstep/doorstepd.conf'),
      '--data-dir', at('var/lib/doorstep'), '--www-dir', at('usr/local/share/doorstep/www'),
      '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
    try {
      const client = new Client(`https://localhost:${port}`);
      await waitFor(async () => (await client.request('GET', '/readyz')).status === 200, { what: 'installed hub ready' });
      const page = await client.request('GET', '/');
      assert.equal(page.status, 200);
      assert.match(page.body.toString(), /Doorstep/);
    } finally {
      hub.kill('SIGTERM');
      await new Promise((resolve) => hub.once('exit', resolve));
    }
  } finally {
    destination.cleanup();
  }
});
