// Browser test of time across devices and zones (issue 10, items 1 and 2), with Debian's
// Chromium headless. The study's site is in Europe/London; the first tablet is set to
// Asia/Shanghai (8 h ahead of London), the second to America/New_York: neither zone may leak
// into the data.
//   - tablet A starts the IO stopwatch (decision, first skin puncture); tablet B, a second
//     browser context, opens the stopwatch of the same patient and finds the clock running from
//     the stored decision time with both taps listed, finishes the procedure, and tablet A
//     converges to it; `ioheme dataset` has one placement, its first attempt successful, the
//     site and the time to access;
//   - the stored times are London's wall-clock of the taps, the form's "Now" button writes
//     London's time, and the dashboard's "Forms due" lists T0 as due now and T0 + 15 min not yet;
//   - a second "Decision" while the placement is open asks before it starts a new placement.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { launchChromium } from './chromium.mjs';
import { makeDb, startServer, runner, cli, login, call, ELIGIBLE, PASSWORD } from '../e2e/http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const ART = process.env.IOHEME_ARTIFACTS || path.resolve('tests/artifacts');
fs.mkdirSync(ART, { recursive: true });
const SITE = 'Europe/London';
const t = runner('browser_clock');
const { dir, db } = makeDb(IOHEME, SRC);
cli(IOHEME, db, ['timezone', SITE]);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

// wall-clock text of an instant in a zone, and wall-clock text as pseudo-UTC ms to compare
const wall = (ms, zone) => {
    const p = {};
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
        .formatToParts(new Date(ms)).forEach((x) => { p[x.type] = x.value; });
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
};
const wallMs = (s) => Date.parse(s.replace(' ', 'T') + (s.length === 16 ? ':00Z' : 'Z'));
const near = (stored, ms, zone, slackS) =>
    typeof stored === 'string' && Math.abs(wallMs(stored) - wallMs(wall(ms, zone))) <= slackS * 1000;

const browser = await launchChromium();
const problems = [];
async function tablet(timezoneId) {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true, timezoneId });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`${timezoneId}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`${timezoneId}: ${e}`));
    await page.goto(B + '/login');
    await page.fill('#username', 'coordinator');
    await page.fill('#password', PASSWORD.coordinator);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    return { context, page };
}
const sw = B + '/records/IOH-001/stopwatch';

try {
    // a patient, screened and enrolled through the API
    const admin = await login(B, 'admin');
    let r = await call(B, 'POST', '/api/v1/screening', { session: admin, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: admin, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200 && r.json.study_id === 'IOH-001', 'patient enrolled', r.text);

    const A = await tablet('Asia/Shanghai');
    t.check(await A.page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone) === 'Asia/Shanghai',
            'tablet A runs in Asia/Shanghai');
    t.check((await A.page.textContent('#site-tz')).includes(SITE) && (await A.page.textContent('.site-tz')).includes(SITE),
            'the dashboard and the header name the site time zone');

    // ---- tablet A: decision and first skin puncture ----
    await A.page.goto(sw);
    await A.page.waitForSelector('#sites button');
    t.check((await A.page.textContent('#elapsed')) === '--:--', 'no procedure yet: the clock is not running');
    await A.page.click('#sites button[data-code="2"]');
    await A.page.click('#sides button[data-code="1"]');
    const tDecision = Date.now();
    await A.page.click('[data-mark=decision]');
    await A.page.waitForFunction(() => /Saved to IOH-001/.test(document.getElementById('sync').textContent));
    await A.page.waitForTimeout(1100);
    const tStart = Date.now();
    await A.page.click('[data-mark=start]');
    await A.page.waitForFunction(() => /1 attempt/.test(document.getElementById('sync').textContent));

    // ---- tablet B: the same procedure, resumed from the server ----
    const Bt = await tablet('America/New_York');
    await Bt.page.goto(sw);
    await Bt.page.waitForSelector('#log li');
    const e1 = await Bt.page.textContent('#elapsed');
    await Bt.page.waitForTimeout(1200);
    const e2 = await Bt.page.textContent('#elapsed');
    t.check(e1 !== '--:--' && e2 !== e1, `tablet B: the clock runs from the stored decision time (${e1} -> ${e2})`);
    const logB = await Bt.page.$$eval('#log li', (li) => li.map((x) => x.getAttribute('data-kind')));
    t.check(JSON.stringify(logB) === '["decision","start"]', 'tablet B lists the taps made on tablet A', logB);
    const firstB = await Bt.page.textContent('#log li');
    t.check(firstB.startsWith(wall(tDecision, SITE).slice(0, 16)) || firstB.startsWith(wall(tDecision + 1000, SITE).slice(0, 16)),
            'tablet B shows the decision in site time, not New York time', firstB);
    t.check(await Bt.page.isEnabled('[data-mark=success]') && await Bt.page.isDisabled('[data-mark=decision]'),
            'tablet B continues the open attempt (success enabled, decision done)');
    await Bt.page.screenshot({ path: path.join(ART, 'clock-01-resumed.png'), fullPage: true });
    await Bt.page.click('[data-mark=success]');
    await Bt.page.click('[data-mark=confirmed]');
    await Bt.page.click('[data-mark=infusion]');
    await Bt.page.waitForFunction(() => /Saved to IOH-001: placement #1, 1 attempt/.test(document.getElementById('sync').textContent) &&
                                        document.querySelectorAll('#log li').length === 5, null, { timeout: 10000 });

    // ---- tablet A converges ----
    await A.page.waitForFunction(() => document.querySelectorAll('#log li').length === 5 &&
                                       /complete/.test(document.getElementById('phase').textContent), null, { timeout: 10000 })
        .then(() => t.check(true), () => t.check(false, 'tablet A converges to the taps made on tablet B',
                                                  A.page.textContent('#log')));

    // ---- "New placement" after a finished procedure asks before it starts one ----
    let asked = '';
    Bt.page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
    await Bt.page.click('#reset');
    t.check(/new IO placement/.test(asked), 'New placement asks first', asked);

    // ---- what the store holds: London wall-clock of each tap, one placement ----
    const api = async (p) => (await call(B, 'GET', p, { session: admin })).json;
    const pl = await api('/api/v1/records/IOH-001/forms/io_procedure?event=io_procedure_arm_1&instance=1');
    const a1 = await api('/api/v1/records/IOH-001/forms/io_attempt?event=io_procedure_arm_1&instance=1');
    t.check(near(pl.values.iop_decision_dt, tDecision, SITE, 3),
            `decision stored as London wall-clock (${pl.values.iop_decision_dt}, tapped at ${wall(tDecision, SITE)} London, ${wall(tDecision, 'Asia/Shanghai')} Shanghai)`);
    t.check(near(a1.values.att_start_dt, tStart, SITE, 3), `skin puncture stored as London wall-clock (${a1.values.att_start_dt})`);
    t.check(pl.values.iop_n_attempts === '1' && pl.values.iop_success === '1' && pl.values.iop_site === '2' &&
            a1.values.att_placement === '1' && a1.values.att_number === '1' && a1.values.att_outcome === '1',
            'placement #1: one attempt, success, site from the attempt', { pl: pl.values, a1: a1.values });
    const p2 = await api('/api/v1/records/IOH-001/forms/io_procedure?event=io_procedure_arm_1&instance=2');
    t.check(Object.keys(p2.values || {}).length === 0, 'no second placement was made', p2.values);

    const out = path.join(dir, 'ds');
    const ds = spawnSync(IOHEME, ['dataset', '--db', db, '--out', out],
                         { env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin }, encoding: 'utf8' });
    t.check(ds.status === 0, 'ioheme dataset', ds.stderr);
    const table = (name) => {
        const [head, ...rows] = fs.readFileSync(path.join(out, `${name}.csv`), 'utf8').trim().split('\n');
        const cols = head.split(',');
        return rows.map((row) => Object.fromEntries(row.split(',').map((v, i) => [cols[i], v.replace(/^"|"$/g, '')])));
    };
    const subj = table('subjects').find((x) => x.subject_id === 'IOH-001') || {};
    t.check(table('placements').length === 1, 'dataset: one placement', table('placements'));
    t.check(subj.first_attempt_success === '1' && subj.first_site !== '' && subj.first_site !== undefined &&
            /^\d+$/.test(subj.access_s || ''), 'dataset: first_attempt_success, first_site and access_s filled', subj);

    // ---- the form's "Now" in a Shanghai browser writes London's time ----
    await A.page.goto(B + '/records/IOH-001/forms/t0_arm_1/haemodynamics');
    await A.page.check('#i-hd_status-1');
    const tNow = Date.now();
    await A.page.click('#f-hd_dt button.now');
    const nowVal = await A.page.inputValue('#i-hd_dt');
    t.check(near(nowVal, tNow, SITE, 90), `"Now" fills the site's wall-clock (${nowVal}; London ${wall(tNow, SITE)}, Shanghai ${wall(tNow, 'Asia/Shanghai')})`);

    // ---- the dashboard's forms due, from the site's wall-clock ----
    await A.page.goto(B + '/');
    const due = await A.page.$$eval('#due tbody tr', (tr) => tr.map((x) => x.textContent));
    const t0 = due.find((x) => x.includes('IOH-001') && x.includes('T0 (first') && x.includes('Haemodynamics')) || '';
    t.check(t0.includes(wall(tStart, SITE).slice(0, 16)), 'Forms due: T0 haemodynamics due at the first puncture, London time', due);
    t.check(!due.some((x) => x.includes('T0 + 15 min')), 'Forms due: T0 + 15 min not due yet', due);
    t.check((await A.page.textContent('#due thead')).includes('site time') && !(await A.page.textContent('#due')).includes('UTC'),
            'the due column is labelled as site time, not UTC');
    await A.page.screenshot({ path: path.join(ART, 'clock-02-dashboard.png'), fullPage: true });

    // ---- a second patient: a conflicting second "Decision" and an empty placement ----
    r = await call(B, 'POST', '/api/v1/screening', { session: admin, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: admin, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    const SW2 = '/api/v1/records/IOH-002/stopwatch';
    r = await call(B, 'POST', SW2, { session: admin, json: { tap: 'decision', at_ms: Date.now() } });
    t.check(r.status === 200 && r.json.placement.instance === 1 && r.json.placement.open && r.json.placement.empty,
            'IOH-002: a decision opens placement #1, empty until an attempt', r.text);
    r = await call(B, 'POST', SW2, { session: admin, json: { tap: 'decision', at_ms: Date.now() } });
    t.check(r.status === 409 && r.json.error.field === 'placement' && /#1 is still open/.test(r.json.error.message),
            'a second decision without the placement while #1 is open is refused (409), nothing saved', r.text);
    r = await call(B, 'GET', SW2, { session: admin });
    t.check(r.json.placements === 1, 'still one placement after the refused decision', r.text);
    // on a tablet: "New placement" on the open #1 asks, then the decision makes #2
    await A.page.goto(B + '/records/IOH-002/stopwatch');
    await A.page.waitForSelector('#log li');
    t.check((await A.page.textContent('#elapsed')) !== '--:--', 'IOH-002: tablet A resumes the open placement #1');
    await Bt.page.goto(B + '/records/IOH-002/stopwatch');
    await Bt.page.waitForFunction(() => /placement #1/.test(document.getElementById('sync').textContent));
    let asked2 = '';
    A.page.once('dialog', (d) => { asked2 = d.message(); d.accept(); });
    await A.page.click('#reset');
    t.check(/not finished/.test(asked2), 'New placement on an open placement says it is not finished', asked2);
    await A.page.click('[data-mark=decision]');
    await A.page.waitForFunction(() => /placement #2/.test(document.getElementById('sync').textContent));
    r = await call(B, 'GET', SW2, { session: admin });
    t.check(r.json.placements === 2 && r.json.placement.instance === 2, 'confirmed: placement #2 started', r.text);
    await Bt.page.waitForFunction(() => /placement #2/.test(document.getElementById('sync').textContent), null, { timeout: 10000 })
        .then(() => t.check(true), () => t.check(false, 'tablet B follows to placement #2, started on tablet A'));
    // both are empty: shown as such on the subject page and in the data-quality list
    await A.page.goto(B + '/records/IOH-002');
    const empties = await A.page.$$eval('#placements li.empty', (li) => li.map((x) => x.textContent));
    t.check(empties.length === 2 && /empty: a decision to use IO but no attempt/.test(empties[0]),
            'subject page: both placements shown as empty', empties);
    await A.page.goto(B + '/records/IOH-001');
    t.check((await A.page.locator('#placements li.empty').count()) === 0 &&
            /1 attempt\(s\), placed/.test(await A.page.textContent('#placements')),
            'subject page: IOH-001\'s placement is not empty');
    await A.page.goto(B + '/');
    const quality = await A.page.$$eval('#quality tbody tr', (tr) => tr.map((x) => x.textContent));
    t.check(quality.length === 2 && quality.every((x) => x.includes('IOH-002') && /empty/.test(x)),
            'data-quality list: the two empty placements of IOH-002, none of IOH-001', quality);

    // ---- the audit trail keeps UTC; the history page shows site time, to the minute ----
    await A.page.goto(B + '/records/IOH-001/history/iop_decision_dt');
    const when = await A.page.textContent('#history tbody td');
    t.check(/^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(when.trim()), 'history: time to the minute, no ISO UTC stamp', when);
    t.check(problems.length === 0, 'no console errors', problems);
} catch (err) {
    t.check(false, 'browser_clock scenario ran to the end', String(err && err.stack || err));
} finally {
    await browser.close();
    await srv.stop();
    t.done();
}
