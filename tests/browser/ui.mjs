// Browser test of the web UI: playwright-core driving Debian's Chromium headless (never a
// downloaded browser) against `ioheme serve` on a fresh database, as a research nurse on a
// 10-inch tablet: sign in, screen an ineligible and an eligible patient, enrol, run the IO
// stopwatch through two attempts (with a reload and a dropped connection in between), enter
// haemodynamics with an out-of-range value, correct it with a reason and find it in the
// field's history. Screenshots go to $IOHEME_ARTIFACTS (default build/tests/artifacts).
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';
import { makeDb, startServer, runner, PASSWORD } from '../e2e/http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const ART = process.env.IOHEME_ARTIFACTS || path.resolve('tests/artifacts');
fs.mkdirSync(ART, { recursive: true });
const t = runner('browser');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, hasTouch: true });
const page = await context.newPage();
const problems = [];
page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
page.on('pageerror', (e) => problems.push(String(e)));
const shot = (name) => page.screenshot({ path: path.join(ART, `${name}.png`), fullPage: true });

async function screen(values) {
    await page.goto(B + '/screening/new');
    t.check(await page.locator('#f-heme_dx').isHidden(), 'branching: diagnosis hidden until "hematologic disease" is yes');
    await page.fill('#i-scr_date', '2026-11-20');
    await page.check('#i-scr_by-3');
    await page.fill('#i-age', values.age);
    await page.check('#i-sex-2');
    await page.check('#i-heme_disease-1');
    t.check(await page.locator('#f-heme_dx').isVisible(), 'branching: diagnosis shown live after "yes"');
    await page.selectOption('#i-heme_dx', '1');
    await page.check('#i-qual_cat1-1');
    for (const c of ['qual_cat2', 'qual_cat3', 'qual_cat4', 'qual_cat5']) await page.check(`#i-${c}-0`);
    await page.check('#i-scr_site_plan-2');
    for (const c of ['ci_fracture', 'ci_prosthesis', 'ci_recent_io', 'ci_skin', 'ci_landmarks', 'ci_osteoporosis', 'ci_oi'])
        await page.check(`#i-${c}-0`);
    await page.check('#i-scr_consent-1');
    const calc = await page.inputValue('#i-inc_age');
    t.check(calc === (values.age === '72' ? '0' : '1'), `calc field inc_age computed live in the browser (${calc})`);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit].primary')]);
}

try {
    // ---- sign in ----
    await page.goto(B + '/');
    t.check(page.url().endsWith('/login'), 'signed out: redirected to the sign-in page', page.url());
    await page.fill('#username', 'coordinator');
    await page.fill('#password', 'wrong-password');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    t.check(await page.locator('.notice-error').isVisible(), 'a failed sign-in says so');
    await page.fill('#username', 'coordinator');
    await page.fill('#password', PASSWORD.coordinator);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    t.check((await page.textContent('h1')) === 'Dashboard', 'signed in: dashboard');
    await shot('01-dashboard');

    // ---- screening: ineligible, then eligible ----
    await screen({ age: '72' });
    t.check(/\/records\/SCR-001$/.test(page.url()), 'ineligible patient saved as SCR-001', page.url());
    t.check((await page.textContent('#verdict')) === 'not eligible', 'verdict: not eligible');
    const failRow = page.locator('#criteria tr.fail');
    t.check((await failRow.count()) === 1 && /age 18/.test(await failRow.first().textContent()),
            'the failing criterion (age) is explained');
    await shot('02-ineligible');
    await page.goto(B + '/screening');
    t.check(/age 18/.test(await page.textContent('#screening-log ul.why')), 'screening log says why SCR-001 is not eligible');

    await screen({ age: '45' });
    t.check(/\/records\/SCR-002$/.test(page.url()), 'eligible patient saved as SCR-002', page.url());
    t.check((await page.textContent('#verdict')) === 'eligible', 'verdict: eligible');
    await page.check('#i-cons_type-1');
    await page.fill('#i-cons_dt', '2026-11-20 09:30');
    await Promise.all([page.waitForNavigation(), page.click('#enrol-btn')]);
    t.check(/\/records\/IOH-001$/.test(page.url()), 'enrolled as IOH-001', page.url());
    t.check(await page.locator('#grid').isVisible(), 'subject page shows the events × forms grid');
    await shot('03-subject');

    // ---- stopwatch: two attempts, a reload and a dropped connection ----
    await page.click('text=IO stopwatch');
    await page.waitForSelector('#sites button');
    await page.click('#sites button[data-code="1"]');
    await page.click('#sides button[data-code="1"]');
    await page.click('[data-mark=decision]');
    await page.waitForTimeout(1100);
    t.check((await page.textContent('#elapsed')) !== '--:--', 'elapsed time runs after the decision');
    await page.click('[data-mark=start]');
    await page.click('[data-mark=failure]');
    await page.reload();
    await page.waitForSelector('#log li');
    t.check((await page.locator('#log li').count()) === 3, 'marks survive a page reload');
    await context.setOffline(true);
    await page.click('#sites button[data-code="2"]');
    await page.click('#sides button[data-code="2"]');
    await page.click('[data-mark=start]');
    await page.waitForFunction(() => /tablet/.test(document.getElementById('sync').textContent));
    t.check(/not (yet )?on the server|Not saved yet/.test(await page.textContent('#sync')), 'offline: marks kept on the tablet', await page.textContent('#sync'));
    await page.reload().catch(() => {}); // offline reload fails; the marks must still be there afterwards
    await context.setOffline(false);
    await page.goto(B + '/records/IOH-001/stopwatch');
    t.check((await page.locator('#log li').count()) === 4, 'marks survive the dropped connection and a reload');
    await page.click('[data-mark=success]');
    await page.click('[data-mark=confirmed]');
    await page.click('[data-mark=infusion]');
    await page.waitForFunction(() => /Saved to IOH-001/.test(document.getElementById('sync').textContent), null, { timeout: 10000 });
    await shot('04-stopwatch');
    const api = async (p) => (await page.request.get(B + p)).json();
    const a1 = await api('/api/v1/records/IOH-001/forms/io_attempt?event=io_procedure_arm_1&instance=1');
    const a2 = await api('/api/v1/records/IOH-001/forms/io_attempt?event=io_procedure_arm_1&instance=2');
    const pl = await api('/api/v1/records/IOH-001/forms/io_procedure?event=io_procedure_arm_1&instance=1');
    t.check(a1.values.att_outcome === '2' && a1.values.att_site === '1' && a2.values.att_outcome === '1' && a2.values.att_site === '2',
            'both attempts saved with outcome and site', { a1: a1.values, a2: a2.values });
    t.check(pl.values.iop_n_attempts === '2' && pl.values.iop_success === '1' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(pl.values.iop_confirm_dt || '') &&
            pl.values.iop_access_s !== undefined, 'placement saved: 2 attempts, success, confirmation time, time to access computed', pl.values);

    // ---- haemodynamics with an out-of-range value ----
    await page.goto(B + '/records/IOH-001/forms/t0_arm_1/haemodynamics');
    t.check(await page.locator('#f-hd_sbp').isHidden(), 'SBP hidden until the assessment is marked done');
    await page.check('#i-hd_status-1');
    await page.fill('#i-hd_dt', '2026-11-20 10:00');
    await page.fill('#i-hd_sbp', '300');
    await page.fill('#i-hd_dbp', '60');
    await page.fill('#i-hd_hr', '120');
    await page.check('#i-hd_map_inv-0');
    await page.check('#i-hd_vaso-0');
    await page.locator('#i-hd_hr').blur();
    await page.locator('#i-hd_sbp').dispatchEvent('change');
    t.check(await page.locator('#f-hd_sbp.has-warning').isVisible(), 'out-of-range SBP warned in the browser before saving');
    t.check((await page.getAttribute('#i-hd_sbp', 'inputmode')) === 'numeric', 'numeric keyboard on the tablet');
    t.check((await page.inputValue('#i-hd_si')) === '0.4', 'shock index calc live (120/300)', await page.inputValue('#i-hd_si'));
    await page.selectOption('#i-status', '2');
    await Promise.all([page.waitForNavigation(), page.click('.savebar button.primary')]);
    t.check(await page.locator('.notice-ok').isVisible(), 'saved');
    t.check(/flagged for review/.test(await page.textContent('#f-hd_sbp .msg')), 'soft warning shown on the saved value');
    await shot('05-haemodynamics-warning');

    // ---- correct with a reason; see it in the history ----
    await page.fill('#i-hd_sbp', '130');
    await page.click('.savebar button.primary');
    t.check(await page.locator('.reason.needed').isVisible(), 'complete form: the reason-for-change prompt stops the save');
    await page.fill('#i-reason', 'transcription error: monitor showed 130');
    await Promise.all([page.waitForNavigation(), page.click('.savebar button.primary')]);
    t.check(await page.locator('.notice-ok').isVisible(), 'saved with a reason');
    await Promise.all([page.waitForNavigation(), page.click('#f-hd_sbp a.hist')]);
    const last = page.locator('#history tbody tr').last();
    t.check((await last.locator('td.old').textContent()) === '300' && (await last.locator('td.new').textContent()) === '130' &&
            /transcription error/.test(await last.locator('td.reason').textContent()), 'history: old → new with the reason');
    await shot('06-history');

    // ---- casebook, phone width ----
    await page.goto(B + '/records/IOH-001/casebook');
    t.check(/Audit chain head/.test(await page.textContent('main')), 'casebook prints the audit chain head');
    await page.setViewportSize({ width: 800, height: 1280 });
    await page.goto(B + '/records/IOH-001');
    await shot('07-subject-portrait');
    const small = await page.$$eval('button, .button, input[type=text], select', (els) =>
        els.filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44).map((e) => e.outerHTML.slice(0, 80)));
    t.check(small.length === 0, 'touch targets are at least 44 px high', small);

    // ---- sign out; the admin adds a user ----
    await page.setViewportSize({ width: 1280, height: 800 });
    await Promise.all([page.waitForNavigation(), page.click('.signout button')]);
    t.check(page.url().endsWith('/login'), 'signed out', page.url());
    const box = await page.locator('#username').boundingBox();
    t.check(box && box.height >= 44 && box.width >= 240, `username box is touch-sized (${box && Math.round(box.width)}×${box && Math.round(box.height)})`);
    await page.fill('#username', 'admin');
    await page.fill('#password', PASSWORD.admin);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    await page.click('nav >> text=Users');
    t.check(await page.inputValue('#u-role') === 'statistician', '"Add a user" offers the least-privileged role first', await page.inputValue('#u-role'));
    await page.fill('#u-name', 'night_nurse');
    await page.selectOption('#u-role', 'coordinator');
    await page.fill('#u-pw', 'night-shift-2026');
    await Promise.all([page.waitForNavigation(), page.click('text=Add user')]);
    t.check(/night_nurse/.test(await page.textContent('#users')), 'admin added a user on the Users page');
    await shot('08-users');
} catch (e) {
    t.check(false, 'unexpected exception', e.stack);
    await shot('zz-failure').catch(() => {});
}
t.check(problems.filter((p) => /Content Security Policy|Refused to/.test(p)).length === 0, 'no CSP violations', problems);
// expected: the deliberate wrong password (401) and the deliberate offline reload
const unexpected = problems.filter((p) => !/status of 401|ERR_INTERNET_DISCONNECTED/.test(p));
t.check(unexpected.length === 0, 'no console errors', unexpected);
await browser.close();
const exit = await srv.stop();
t.check(exit.code === 0, 'server stopped cleanly', exit);
console.log(`browser: screenshots in ${ART}`);
if (!t.failed) fs.rmSync(dir, { recursive: true, force: true }); // kept on failure, for the logs
t.done();
