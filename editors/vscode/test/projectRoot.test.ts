import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { enclosingProjectRoot, isProjectRoot, outermostRoots } from '../src/projectRoot';

/** Temp directories this file made, removed once its tests are done. */
const made: string[] = [];
after(() => {
  for (const dir of made) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function touch(root: string, rel: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), '');
}

test('the nearest directory with app.py or .chalice/config.json encloses a file', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chalice-iam-roots-'));
  made.push(root);
  touch(root, 'api/app.py');
  touch(root, 'api/chalicelib/db.py');
  touch(root, 'worker/.chalice/config.json');
  touch(root, 'worker/handlers/jobs.py');
  touch(root, 'scripts/tool.py');
  fs.mkdirSync(path.join(root, 'fake/.chalice/config.json'), { recursive: true }); // a directory, not a file

  assert.equal(enclosingProjectRoot(path.join(root, 'api/app.py')), path.join(root, 'api'));
  assert.equal(enclosingProjectRoot(path.join(root, 'api/chalicelib/db.py')), path.join(root, 'api'));
  assert.equal(enclosingProjectRoot(path.join(root, 'worker/handlers/jobs.py')), path.join(root, 'worker'));
  assert.equal(enclosingProjectRoot(path.join(root, 'worker/.chalice/config.json')), path.join(root, 'worker'));
  assert.equal(enclosingProjectRoot(path.join(root, 'scripts/tool.py')), undefined);
  assert.equal(isProjectRoot(path.join(root, 'fake')), false);
});

test('nested roots are dropped, siblings with a common prefix are kept', () => {
  assert.deepEqual(outermostRoots(['/w/api/chalicelib', '/w/api', '/w/api2', '/w/api', '/w/other/x']), [
    '/w/api',
    '/w/api2',
    '/w/other/x',
  ]);
});
