// REDCap's instance references in the browser and on the server (issue 12): a copy of the
// io-heme protocol gains two calcs on the repeating IO attempt form — the previous attempt's
// number, [att_number][previous-instance], and the highest so far, [att_number][last-instance]
// — and the form computes them live in Chromium from the values the page holds (form.js), as
// the server computes and stores them when the attempt is saved (dict_ref_instance, one rule).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';
import { startServer, runner, studyDb, PASSWORD, ELIGIBLE } from '../e2e/http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('browser_instances');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioheme-instances-'));
const proto = path.join(dir, 'protocol');
fs.cpSync(path.join(SRC, 'protocols/io-heme'), proto, { recursive: true });
const lines = fs.readFileSync(path.join(proto, 'dictionary.csv'), 'utf8').split('\n');
let last = -1;
lines.forEach((l, i) => { if (/^[a-z0-9_]+,io_attempt,/.test(l)) last = i; });
lines.splice(last + 1, 0,
    'att_prev_number,io_attempt,,calc,Previous attempt\'s number,"[att_number][previous-instance]",,,,,,,,,,,,',
    'att_last_number,io_attempt,,calc,Highest attempt number so far,"[att_number][last-instance]",,,,,,,,,,,,');
fs.writeFileSync(path.join(proto, 'dictionary.csv'), lines.join('\n'));
const db = studyDb(dir);
const env = { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin };
const ioheme = (args, input) => spawnSync(IOHEME, [...args, '--db', db], { env, input, encoding: 'utf8' });
let c = spawnSync(IOHEME, ['init', '--db', db, '--admin', 'admin', '--protocol', proto], { env, encoding: 'utf8' });
t.check(c.status === 0, 'a database from the protocol with instance references', c.stderr);
ioheme(['user', 'add', 'coordinator', '--role', 'coordinator'], PASSWORD.coordinator + '\n');
const kv = (o) => Object.entries(o).map(([k, v]) => `${k}=${v}`);
ioheme(['screen', ...kv(ELIGIBLE)]);
ioheme(['enroll', 'SCR-001', 'cons_type=1', 'cons_dt=2026-11-20 09:30', 'cons_obtained_by=3', 'cons_withdrawn=0']);
for (const i of [1, 2]) {
    c = ioheme(['set', 'IOH-001', `io_procedure:${i}`, 'att_placement=1', `att_number=${i}`, 'att_outcome=2', 'att_fail_reason=1']);
    t.check(c.status === 0, `attempt ${i} saved`, c.stderr);
}
const stored = () => {
    const show = JSON.parse(ioheme(['show', 'IOH-001', '--json']).stdout);
    const ev = show.events.find((e) => e.event === 'io_procedure_arm_1');
    return ev.forms.filter((f) => f.form === 'io_attempt').map((f) => [f.instance, f.values.att_prev_number, f.values.att_last_number]);
};
let s = stored();
t.check(JSON.stringify(s) === JSON.stringify([[1, undefined, '1'], [2, '1', '2']]),
    'the server stored each attempt\'s previous and highest number', s);

const srv = await startServer(IOHEME, db, dir);
const B = srv.base;
const browser = await launchChromium();
const page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
const problems = [];
page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
page.on('pageerror', (e) => problems.push(String(e)));
try {
    await page.goto(B + '/login');
    await page.fill('#username', 'coordinator');
    await page.fill('#password', PASSWORD.coordinator);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    await page.goto(`${B}/records/IOH-001/forms/io_procedure_arm_1/io_attempt?instance=2`);
    t.check(await page.inputValue('#i-att_prev_number') === '1' && await page.inputValue('#i-att_last_number') === '2',
        'attempt 2\'s page shows the previous number (1) and the highest (2)',
        [await page.inputValue('#i-att_prev_number'), await page.inputValue('#i-att_last_number')]);
    await page.goto(`${B}/records/IOH-001/forms/io_procedure_arm_1/io_attempt?instance=3`);
    await page.fill('#i-att_placement', '1');
    await page.fill('#i-att_number', '3');
    await page.dispatchEvent('#i-att_number', 'input');
    t.check(await page.inputValue('#i-att_prev_number') === '2' && await page.inputValue('#i-att_last_number') === '3',
        'a new attempt 3 computes live: previous 2, highest 3 (this page\'s own number)',
        [await page.inputValue('#i-att_prev_number'), await page.inputValue('#i-att_last_number')]);
} catch (e) {
    t.check(false, 'unexpected exception', e.stack);
}
t.check(problems.length === 0, 'no console errors', problems);
await browser.close();
await srv.stop();
c = ioheme(['set', 'IOH-001', 'io_procedure:3', 'att_placement=1', 'att_number=3', 'att_outcome=1']);
t.check(c.status === 0, 'attempt 3 saved', c.stderr);
s = stored();
t.check(JSON.stringify(s[2]) === JSON.stringify([3, '2', '3']), 'the server agrees with the browser for attempt 3', s);
if (!t.failed) fs.rmSync(dir, { recursive: true, force: true });
t.done();
