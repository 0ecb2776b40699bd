// Browser test of data that must be right (issue 10, items 3–5 and two message items):
// playwright-core driving Debian's Chromium headless against `ioheme serve`.
//  - a new answer that hides a field holding a value: the form asks to erase it (Cancel undoes
//    the answer, OK erases), and the save leaves no hidden value; the API, the CLI and the
//    importer get the store's one answer (refused, naming the field by its label);
//  - a hidden value stored before the rule is marked on the form, listed by `ioheme quality`
//    and never used by the dataset;
//  - a refused save labels nothing "saved", and lists every reason (every missing required
//    field by its label, no "(and N more)");
//  - an empty haemodynamics form says where to start instead of showing empty calc boxes and a
//    reason box;
//  - a training database (`init --synthetic`) says so on every page; a study database does not;
//  - numbers written with a decimal comma compute and check on the form as on the server;
//  - dates of REDCap's _mdy / _dmy types are shown, entered and checked in the field's order.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';
import { makeDb, cli, startServer, call, login, runner, sql, studyDb, PASSWORD, ELIGIBLE } from '../e2e/http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const ART = process.env.IOHEME_ARTIFACTS || path.resolve('tests/artifacts');
fs.mkdirSync(ART, { recursive: true });
const t = runner('browser_data');
const { dir, db } = makeDb(IOHEME, SRC);
const PROC = 'io_procedure_arm_1';

// one enrolled patient with a failed first attempt and its reason, entered through the CLI
const kv = (o) => Object.entries(o).map(([k, v]) => `${k}=${v}`);
cli(IOHEME, db, ['screen', ...kv(ELIGIBLE)]);
cli(IOHEME, db, ['enroll', 'SCR-001', 'cons_type=1', 'cons_dt=2026-11-20 09:30', 'cons_obtained_by=3', 'cons_withdrawn=0']);
cli(IOHEME, db, ['set', 'IOH-001', 'io_procedure:1', 'att_placement=1', 'att_number=1', 'att_outcome=2', 'att_fail_reason=1']);
cli(IOHEME, db, ['set', 'IOH-001', 'io_procedure:2', 'att_placement=1', 'att_number=2', 'att_outcome=2', 'att_fail_reason=3']);
function ioheme(args) {
    return spawnSync(IOHEME, [...args, '--db', db], { encoding: 'utf8',
        env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin } });
}

const srv = await startServer(IOHEME, db, dir);
const B = srv.base;
const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true });
const page = await context.newPage();
const problems = [];
page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
page.on('pageerror', (e) => problems.push(String(e)));
const shot = (name) => page.screenshot({ path: path.join(ART, `data-${name}.png`), fullPage: true });
const api = async (p) => (await page.request.get(B + p)).json();
const attempt = async (i) => (await api(`/api/v1/records/IOH-001/forms/io_attempt?event=${PROC}&instance=${i}`)).values;
// the page's text with every "not saved" ("nothing ... was saved") taken out: what is left must not say "saved"
const savedClaims = async () => (await page.textContent('main')).replace(/not saved|nothing on this form was saved/gi, '')
    .match(/.{0,40}saved.{0,20}/gi);

try {
    await page.goto(B + '/login');
    t.check(await page.locator('.synthetic-banner').count() === 0, 'a study database shows no training banner');
    await page.fill('#username', 'coordinator');
    await page.fill('#password', PASSWORD.coordinator);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);

    // ---- the form asks to erase a value the new answer hides ----
    await page.goto(`${B}/records/IOH-001/forms/${PROC}/io_attempt?instance=1`);
    t.check(await page.locator('#f-att_fail_reason').isVisible(), 'failure reason shown for a failed attempt');
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
    await page.click('#i-att_outcome-1'); // not page.check: Cancel puts the old answer back
    t.check(/Reason for failure/.test(asked) && /erase/i.test(asked), 'success asks to erase the failure reason, by its label', asked);
    t.check(await page.isChecked('#i-att_outcome-2') && await page.isChecked('#i-att_fail_reason-1') &&
            await page.locator('#f-att_fail_reason').isVisible(), 'Cancel undoes the answer and keeps the reason');
    asked = '';
    page.once('dialog', (d) => { asked = d.message(); d.accept(); });
    await page.check('#i-att_outcome-1');
    t.check(asked !== '', 'asked again');
    t.check(await page.locator('#f-att_fail_reason').isHidden() && !(await page.isChecked('#i-att_fail_reason-1')),
            'OK erases the reason and hides it');
    await shot('01-erased');
    await Promise.all([page.waitForNavigation(), page.click('.savebar button.primary')]);
    t.check(await page.locator('.notice-ok').isVisible(), 'saved');
    let a1 = await attempt(1);
    t.check(a1.att_outcome === '1' && a1.att_fail_reason === undefined, 'stored: success, no failure reason', a1);
    const hist = await api('/api/v1/records/IOH-001/history/att_fail_reason');
    const erased = (hist.history || []).filter((h) => h.instance === 1 && h.old === '1' && h.new == null);
    t.check(erased.length === 1 && erased[0].user === 'coordinator', 'the erasure is in the audit trail', hist);

    // ---- the API, the CLI and the importer: the store's one answer ----
    const s = await login(B, 'coordinator');
    const r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: s, json: { event: PROC, instance: 2, values: { att_outcome: '1' } } });
    const iss = r.json && r.json.error && r.json.error.issues;
    t.check(r.status === 422 && iss && iss.length === 1 && iss[0].rule === 'hidden' && iss[0].field === 'att_fail_reason' &&
            /Reason for failure/.test(iss[0].message), 'API: refused 422, rule hidden, the field named by its label', r.text);
    const c = ioheme(['set', 'IOH-001', 'io_procedure:2', 'att_outcome=1']);
    t.check(c.status === 3 && /'Reason for failure' \(att_fail_reason\).*rule: hidden/.test(c.stderr), 'CLI: the same refusal', c.stderr);
    fs.writeFileSync(path.join(dir, 'imp.csv'), `record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,att_outcome\nIOH-001,${PROC},io_attempt,2,1\n`);
    const im = ioheme(['import', path.join(dir, 'imp.csv')]);
    t.check(im.status === 3 && /att_fail_reason.*hidden/.test(im.stderr), 'import: the same refusal', im.stderr);
    const a2 = await attempt(2);
    t.check(a2.att_outcome === '2' && a2.att_fail_reason === '3', 'nothing of the refused saves was stored', a2);
    const ok = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: s, json: { event: PROC, instance: 2, values: { att_outcome: '1', att_fail_reason: null } } });
    t.check(ok.status === 200, 'API: the answer with the hidden value cleared is saved', ok.text);

    // ---- a hidden value stored before the rule: marked, listed, never in the dataset ----
    cli(IOHEME, db, ['set', 'IOH-001', 't0', 'hd_status=2']);
    const q = sql(db, "INSERT INTO value(record_id, event, instance, field, code, form, value) " +
        "SELECT id, 't0_arm_1', 0, 'hd_hr', '', 'haemodynamics', '150' FROM record WHERE study_id = 'IOH-001'");
    t.check(q.status === 0, 'legacy hidden value written behind the CLI (SQL)', q.stderr);
    await page.goto(`${B}/records/IOH-001/forms/t0_arm_1/haemodynamics`);
    t.check(await page.locator('#f-hd_hr.hidden-value').isVisible() && /hide this field/.test(await page.textContent('#f-hd_hr .msg')),
            'the form shows the hidden value, marked, so it can be cleared');
    const ql = ioheme(['quality']);
    t.check(/IOH-001  t0_arm_1  'Heart rate' \(hd_hr\) = '150'/.test(ql.stdout), 'ioheme quality lists it', ql.stdout);
    cli(IOHEME, db, ['dataset', '--out', path.join(dir, 'ds')]);
    const t0 = fs.readFileSync(path.join(dir, 'ds', 'haemodynamics.csv'), 'utf8').split('\n').find((l) => l.startsWith('IOH-001,T0,'));
    t.check(t0 && t0.split(',')[5] === '', 'the dataset does not use the hidden heart rate', t0);
    const at = fs.readFileSync(path.join(dir, 'ds', 'attempts.csv'), 'utf8');
    t.check(/IOH-001,1,1,.*,1\n/.test(at), 'the dataset has the corrected first attempt as a success', at);

    // ---- an empty haemodynamics form says where to start ----
    await page.goto(`${B}/records/IOH-001/forms/t15min_arm_1/haemodynamics`);
    t.check(await page.locator('#form-lead').isVisible() && /Start with Assessment/.test(await page.textContent('#form-lead')),
            'an empty form says to start with the assessment', await page.textContent('main'));
    t.check(await page.locator('#f-hd_map').isHidden() && await page.locator('#f-hd_si').isHidden(), 'no empty calc boxes');
    t.check(await page.locator('#i-reason').count() === 0, 'no reason box on an empty form');
    await shot('02-empty-form');
    await page.check('#i-hd_status-1');
    await page.fill('#i-hd_sbp', '100');
    await page.fill('#i-hd_dbp', '70');
    t.check(await page.locator('#f-hd_map').isVisible() && (await page.inputValue('#i-hd_map')) === '80', 'MAP appears once computed');

    // ---- a refused save says so on every field ----
    await page.fill('#i-hd_sbp', '400');
    await page.fill('#i-hd_dbp', 'abc');
    await page.fill('#i-hd_hr', '100');
    await Promise.all([page.waitForNavigation(), page.click('.savebar button.primary')]);
    t.check(/Not saved: nothing on this form was saved/.test(await page.textContent('.notice-error')), 'the refusal is said at the top');
    t.check(/Diastolic blood pressure/.test(await page.textContent('.notice-error li')), 'the refused field is named by its label');
    const sbpMsg = await page.textContent('#f-hd_sbp .msg');
    t.check(/not saved/.test(sbpMsg) && !/; saved|\(saved/.test(sbpMsg), 'SBP 400 is not labelled saved', sbpMsg);
    const claims = await savedClaims();
    t.check(claims === null, 'nothing on the page says "saved"', claims);
    await shot('03-refused');
    const st = await api('/api/v1/records/IOH-001/forms/haemodynamics?event=t15min_arm_1');
    t.check(Object.keys(st.values).length === 0, 'and nothing was stored', st.values);

    // ---- every missing required field, by label ----
    await page.goto(`${B}/records/IOH-001/forms/t30min_arm_1/haemodynamics`);
    await page.check('#i-hd_status-1');
    await page.selectOption('#i-status', '2');
    await Promise.all([page.waitForNavigation(), page.click('.savebar button.primary')]);
    const items = await page.locator('.notice-error li').allTextContents();
    const want = ['Time of measurement', 'Systolic blood pressure', 'Diastolic blood pressure', 'Heart rate'];
    t.check(want.every((w) => items.some((i) => i.startsWith(w))) && items.length >= 6, 'every missing required field listed by its label', items);
    t.check(!/more\)/.test(await page.textContent('.notice-error')), 'no "(and N more)"');
    t.check(await savedClaims() === null, 'the refused completion says nothing was saved');
} catch (e) {
    t.check(false, 'unexpected exception', e.stack);
    await shot('zz-failure').catch(() => {});
}

// ---- numbers with a decimal comma (REDCap's number_comma_decimal) on a form ----
// the corpus's rr-decimal-comma project, its REDCap export imported: BMI over "1,54" m and
// "52,3" kg is 22.1 in REDCap's export and in the store; the form must compute and check the
// same numbers as the person types them, as the server's logic reads them (validate_logic_value)
try {
    const proto = fs.mkdtempSync(path.join(dir, 'comma-'));
    const C = path.join(SRC, 'tests/fixtures/redcap-corpus/rr-decimal-comma');
    fs.copyFileSync(path.join(C, 'dictionary.csv'), path.join(proto, 'dictionary.csv'));
    const cdb = studyDb(dir, 'comma');
    let x = spawnSync(IOHEME, ['init', '--db', cdb, '--admin', 'admin', '--protocol', proto],
                      { encoding: 'utf8', env: { ...process.env, IOHEME_PASSWORD: PASSWORD.admin } });
    t.check(x.status === 0, 'comma: init', x.stderr);
    x = spawnSync(IOHEME, ['import', path.join(C, 'data.csv'), '--db', cdb, '--reason', 'from REDCap'],
                  { encoding: 'utf8', env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin } });
    t.check(x.status === 0, 'comma: REDCap export imported', x.stderr);
    const csrv = await startServer(IOHEME, cdb, dir);
    await page.goto(csrv.base + '/login');
    await page.fill('#username', 'admin');
    await page.fill('#password', PASSWORD.admin);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    await page.goto(csrv.base + '/records/1/forms/event_1/demographics');
    const stored = JSON.parse(await page.textContent('#ioh-values'));
    t.check(stored['event_1|0|height'] === 1.54 && stored['event_1|0|weight'] === 52.3,
            'comma: the stored "1,54" and "52,3" reach the form\'s logic as numbers', stored);
    await page.fill('#i-weight', '60,5');
    // round(60.5 / 1.54^2, 1) = round(25.5101…, 1) = 25.5
    t.check(await page.inputValue('#i-bmi') === '25.5', 'comma: typing 60,5 kg computes BMI 25.5 live',
            await page.inputValue('#i-bmi'));
    await page.locator('#i-weight').blur();
    t.check(!(await page.getAttribute('#f-weight', 'class')).includes('has-error'),
            'comma: 60,5 is no error on a number_comma_decimal field', await page.textContent('#f-weight .msg'));
    await page.fill('#i-weight', '250,5');
    await page.locator('#i-weight').blur();
    t.check(/Check: 250,5 is outside 35–200/.test(await page.textContent('#f-weight .msg')),
            'comma: 250,5 is outside the range 35–200', await page.textContent('#f-weight .msg'));
    await page.fill('#i-weight', '60.5');
    await page.locator('#i-weight').blur();
    t.check(/not a number with a decimal comma/.test(await page.textContent('#f-weight .msg')),
            'comma: 60.5 (a point) is refused as the server refuses it', await page.textContent('#f-weight .msg'));
    await shot('05-decimal-comma');
    await csrv.stop();
} catch (e) {
    t.check(false, 'unexpected exception (decimal comma)', e.stack);
    await shot('zz-comma-failure').catch(() => {});
}

// ---- dates in the field's own order (REDCap's date_mdy / date_dmy / datetime_mdy) ----
// stored ISO, shown and entered MM-DD-YYYY / DD-MM-YYYY; the live calc reads the typed date as
// the server will store it; a "today" maximum is read on the site's clock as the server reads it
let msrv = null;
try {
    const proto = fs.mkdtempSync(path.join(dir, 'mdy-'));
    const H = '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",' +
        '"Choices, Calculations, OR Slider Labels","Field Note","Text Validation Type OR Show Slider Number",' +
        '"Text Validation Min","Text Validation Max",Identifier?,"Branching Logic (Show field only if...)",' +
        '"Required Field?","Custom Alignment","Question Number (surveys only)","Matrix Group Name","Matrix Ranking?","Field Annotation"';
    fs.writeFileSync(path.join(proto, 'dictionary.csv'), [H,
        'record_id,visit,,text,Record ID,,,,,,,,,,,,,',
        'dob,visit,,text,Date of birth,,,date_dmy,01-01-1900,today,,,,,,,,@HIDEBUTTON',
        'visit_dt,visit,,text,Visit date,,,date_mdy,,today,,,,,,,,@FORCE-MINMAX',
        'seen_at,visit,,text,Seen at,,,datetime_mdy,,,,,,,,,,',
        'onset,visit,,text,Onset,,,datetime_mdy,[dob],,,,,,,,,',
        'age_days,visit,,calc,Days old at the visit,"datediff([dob],[visit_dt],\'d\')",,,,,,,,,,,,',
        ''].join('\n'));
    const data = path.join(proto, 'data.csv');
    fs.writeFileSync(data, 'record_id,dob,visit_dt,seen_at,age_days,visit_complete\n' +
        '1,1990-02-28,2026-11-20,2026-11-20 09:30,13414,0\n');
    const mdb = studyDb(dir, 'mdy');
    let x = spawnSync(IOHEME, ['init', '--db', mdb, '--admin', 'admin', '--protocol', proto],
                      { encoding: 'utf8', env: { ...process.env, IOHEME_PASSWORD: PASSWORD.admin } });
    t.check(x.status === 0, 'mdy: init', x.stderr);
    x = spawnSync(IOHEME, ['import', data, '--db', mdb], { encoding: 'utf8',
        env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin } });
    t.check(x.status === 0, 'mdy: a REDCap export (ISO dates) imported', x.stderr);
    msrv = await startServer(IOHEME, mdb, dir);
    await page.goto(msrv.base + '/login');
    await page.fill('#username', 'admin');
    await page.fill('#password', PASSWORD.admin);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    const form = msrv.base + '/records/1/forms/event_1/visit';
    await page.goto(form);
    // day (28) and month (02) differ, so either order shown the other way round fails
    t.check(await page.inputValue('#i-dob') === '28-02-1990', 'mdy: a date_dmy value shows DD-MM-YYYY', await page.inputValue('#i-dob'));
    t.check(await page.inputValue('#i-visit_dt') === '11-20-2026', 'mdy: a date_mdy value shows MM-DD-YYYY', await page.inputValue('#i-visit_dt'));
    t.check(await page.inputValue('#i-seen_at') === '11-20-2026 09:30', 'mdy: a datetime_mdy value shows MM-DD-YYYY HH:MM', await page.inputValue('#i-seen_at'));
    t.check(await page.getAttribute('#i-visit_dt', 'placeholder') === 'MM-DD-YYYY', 'mdy: its placeholder says MM-DD-YYYY');
    const meta = await (await page.request.get(msrv.base + '/api/v1/protocol')).json();
    const mf = Object.fromEntries(meta.forms.flatMap((fm) => fm.fields).map((f) => [f.name, f]));
    t.check(mf.visit_dt.max === 'today' && mf.dob.min === '01-01-1900' && mf.dob.max === 'today' && !('min' in mf.visit_dt),
            'mdy: the protocol API lists the bounds a value is checked against, "today" included', [mf.visit_dt, mf.dob]);
    const stored = JSON.parse(await page.textContent('#ioh-values'));
    t.check(stored['event_1|0|visit_dt'] === '2026-11-20', 'mdy: the page\'s logic holds the stored ISO date', stored);
    // 2026-12-01 is 11 days after 2026-11-20: 13414 + 11 (python: date(2026,12,1) - date(1990,2,28))
    await page.fill('#i-visit_dt', '12-01-2026');
    t.check(await page.inputValue('#i-age_days') === '13425', 'mdy: typing 12-01-2026 computes 13425 days live, the date read as December 1st',
            await page.inputValue('#i-age_days'));
    await page.fill('#i-visit_dt', '13-01-2026');
    await page.locator('#i-visit_dt').blur();
    t.check(/use MM-DD-YYYY/.test(await page.textContent('#f-visit_dt .msg')), 'mdy: 13-01-2026 (month 13) is not a date',
            await page.textContent('#f-visit_dt .msg'));
    await page.fill('#i-visit_dt', '12-31-2099');
    await page.locator('#i-visit_dt').blur();
    const msg = await page.textContent('#f-visit_dt .msg');
    t.check(/^Not allowed: 12-31-2099 is outside –today \(\d\d-\d\d-\d{4}\)$/.test(msg),
            'mdy: a visit after today is refused before saving, naming today in the field\'s order', msg);
    await page.fill('#i-dob', '31-12-2099');
    await page.locator('#i-dob').blur();
    t.check(/^Check: 31-12-2099 is outside 01-01-1900–today/.test(await page.textContent('#f-dob .msg')),
            'mdy: a date of birth after today is flagged (soft), the bounds as written', await page.textContent('#f-dob .msg'));
    /* No blur first: the press on Now takes the focus from dob, whose message then goes; were
       it to go at the press, Now would move up a line before the release and the click miss. */
    await page.fill('#i-dob', '28-02-1990');
    const hasNow = await page.locator('#f-visit_dt button.now').count() === 1;
    t.check(hasNow, 'mdy: a date_mdy field has a Now button');
    t.check(await page.locator('#f-dob button.now').count() === 0, 'mdy: a date field with @HIDEBUTTON has none');
    if (hasNow) await page.click('#f-visit_dt button.now', { timeout: 10000 });
    // the message goes in a task queued by the release (form.js), which a loaded machine may
    // run after the click has returned
    await page.waitForFunction(() => document.querySelector('#f-dob .msg').textContent === '', null,
        { timeout: 5000 }).catch(() => {});
    t.check(!(await page.getAttribute('#f-dob', 'class')).includes('has-') && await page.textContent('#f-dob .msg') === '',
            'mdy: dob\'s message went once the click on Now was over', await page.textContent('#f-dob .msg'));
    const now = await page.inputValue('#i-visit_dt');
    t.check(/^\d\d-\d\d-\d{4}$/.test(now) && !(await page.getAttribute('#f-visit_dt', 'class')).includes('has-'),
            'mdy: Now writes today as MM-DD-YYYY, within the maximum "today"', now);
    // a bound piped from a field: dob as the page holds it, a date made this datetime's midnight
    t.check(mf.onset.min === '[dob]', 'mdy: the protocol API lists a bound piped from a field', mf.onset);
    await page.fill('#i-onset', '02-27-1990 23:59');
    await page.locator('#i-onset').blur();
    t.check(/^Check: 02-27-1990 23:59 is outside \[dob\] \(02-28-1990 00:00\)–/.test(await page.textContent('#f-onset .msg')),
            'mdy: an onset before the date of birth on the page is flagged, naming [dob] and its value', await page.textContent('#f-onset .msg'));
    await page.fill('#i-onset', '02-28-1990 00:00');
    await page.locator('#i-onset').blur();
    t.check(await page.textContent('#f-onset .msg') === '', 'mdy: an onset at the date of birth\'s midnight is inside',
            await page.textContent('#f-onset .msg'));
    await page.fill('#i-onset', '02-27-1990 23:59'); /* saved below, flagged by the server */
    await page.fill('#i-visit_dt', '12-01-2026');
    await Promise.all([page.waitForNavigation({ timeout: 15000 }), page.click('.savebar button.primary', { timeout: 15000 })]);
    const back = (await (await page.request.get(msrv.base + '/api/v1/records/1/forms/visit?event=event_1')).json()).values;
    t.check(back.visit_dt === '2026-12-01' && back.dob === '1990-02-28' && back.age_days === '13425',
            'mdy: saved as ISO, and the calc the server computed is the one the form showed', back);
    await page.goto(form);
    t.check(await page.inputValue('#i-visit_dt') === '12-01-2026', 'mdy: and shown again as entered', await page.inputValue('#i-visit_dt'));
    t.check(back.onset === '1990-02-27 23:59' &&
            (await page.textContent('#f-onset .msg')).trim() === 'Saved, flagged for review: outside the expected range [dob]–.',
            'mdy: the server flagged the onset before [dob], and the form says which range', [back.onset, await page.textContent('#f-onset .msg')]);
    await shot('06-dates-in-field-order');
} catch (e) {
    t.check(false, 'unexpected exception (dates in the field\'s order)', e.stack);
    await shot('zz-mdy-failure').catch(() => {});
} finally {
    if (msrv) await msrv.stop();
}

// ---- a training database says so on every page ----
try {
    const demo = studyDb(dir, 'demo');
    spawnSync(IOHEME, ['init', '--db', demo, '--admin', 'admin', '--synthetic', '--protocol', path.join(SRC, 'protocols/io-heme')],
              { env: { ...process.env, IOHEME_PASSWORD: PASSWORD.admin } });
    const dsrv = await startServer(IOHEME, demo, dir);
    await page.goto(dsrv.base + '/login');
    t.check(/Training database/.test(await page.textContent('.synthetic-banner')), 'the sign-in page of a training database says so');
    await page.fill('#username', 'admin');
    await page.fill('#password', PASSWORD.admin);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    t.check(await page.locator('.synthetic-banner').isVisible(), 'and the dashboard');
    await shot('04-training-banner');
    await dsrv.stop();
} catch (e) {
    t.check(false, 'unexpected exception (training database)', e.stack);
}
t.check(problems.filter((p) => /Content Security Policy|Refused to/.test(p)).length === 0, 'no CSP violations', problems);
const unexpected = problems.filter((p) => !/status of 422/.test(p));
t.check(unexpected.length === 0, 'no console errors', unexpected);
await browser.close();
const exit = await srv.stop();
t.check(exit.code === 0, 'server stopped cleanly', exit);
if (!t.failed) fs.rmSync(dir, { recursive: true, force: true });
t.done();
