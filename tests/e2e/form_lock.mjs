// Locking one form of a record (and the record) on every path: the data manager locks the
// efficacy form at 24 h; a save to it is refused through the API (422, rule "locked"), the
// page, the CLI and an import, and so is a change elsewhere that would recompute one of its
// calcs — with nothing half-saved; other forms stay open; the form page shows it locked and
// read only; the subject grid marks the locked form and counts live queries per form; a
// coordinator may not lock; unlocking needs a reason; both are audited and the chain verifies.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeDb, startServer, call, login, cli, runner, ELIGIBLE, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('form_lock');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

// The CLI as user `who`, without throwing: { status, stdout, stderr }.
function ioheme(who, args) {
    return spawnSync(IOHEME, [...args, '--db', db],
        { env: { ...process.env, IOHEME_USER: who, IOHEME_PASSWORD: PASSWORD[who] }, encoding: 'utf8' });
}

try {
    const nurse = await login(B, 'coordinator'), dm = await login(B, 'data_manager'), mon = await login(B, 'monitor');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'fixture: IOH-001 enrolled', r.text);
    const save = (event, values, reason) =>
        call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event, values, reason } });
    r = await save('t6h_arm_1', { hd_status: '1', hd_dt: '2026-11-20 16:40', hd_sbp: 88, hd_dbp: 48 });
    t.check(r.status === 200, 'fixture: haemodynamics at 6 h (MAP 61)', r.text);
    r = await save('t24h_arm_1', { eff_delivered: '1' });
    t.check(r.status === 200, 'fixture: efficacy at 24 h, whose eff_map6_ok reads the 6 h MAP', r.text);
    const before = JSON.parse(cli(IOHEME, db, ['show', 'IOH-001', '--json']));
    const val = (rec, ev, form, f) => rec.events.find((e) => e.event === ev)?.forms.find((x) => x.form === form)?.values[f];
    t.check(val(before, 't24h_arm_1', 'efficacy', 'eff_map6_ok') === '0', 'eff_map6_ok is 0 (MAP 61 < 65)', val(before, 't24h_arm_1', 'efficacy', 'eff_map6_ok'));

    // who may lock
    const lockBody = { event: 't24h_arm_1', form: 'efficacy', reason: 'reviewed' };
    r = await call(B, 'POST', '/api/v1/records/IOH-001/lock', { session: nurse, json: lockBody });
    t.check(r.status === 403, 'a coordinator may not lock (403)', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/lock', { session: dm, json: { ...lockBody, form: 'no_such_form' } });
    t.check(r.status === 422 && r.json.error.field === 'form', 'an unknown form is a 422 naming "form"', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/lock', { session: dm, json: { event: 'io_procedure_arm_1', form: 'infusion' } });
    t.check(r.status === 422 && r.json.error.field === 'instance', 'a repeating form needs its instance (422)', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/lock', { session: dm, json: lockBody });
    t.check(r.status === 200 && r.json.locked === true && r.json.form === 'efficacy', 'the data manager locks efficacy at 24 h', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/lock', { session: dm, json: lockBody });
    t.check(r.status === 409, 'locking it again is a conflict (409)', r.text);
    r = await call(B, 'GET', '/api/v1/records/IOH-001', { session: mon });
    t.check(r.json.locked === false && r.json.locked_forms.length === 1 && r.json.locked_forms[0].form === 'efficacy' &&
            r.json.locked_forms[0].locked_by === 'data_manager', 'the record lists its locked form, by whom', r.json.locked_forms);

    // every door refuses a change to it
    r = await save('t24h_arm_1', { eff_delivered: '0' }, 'correction');
    t.check(r.status === 422 && r.json.error.issues.some((i) => i.rule === 'locked' && i.field === 'eff_delivered'), 'API save to the locked form: 422, rule "locked"', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/forms/efficacy/status', { session: nurse, json: { event: 't24h_arm_1', status: 2 } });
    t.check(r.status >= 400 && r.status < 500, 'its status cannot change either', r.text);
    let c = ioheme('coordinator', ['set', 'IOH-001', 't24h', 'eff_delivered=0', '--reason', 'correction']);
    t.check(c.status !== 0 && /locked/.test(c.stderr), 'CLI set is refused, naming the lock', c.stderr);
    const csv = path.join(dir, 'lock-import.csv');
    fs.writeFileSync(csv, 'record_id,redcap_event_name,eff_delivered\nIOH-001,t24h_arm_1,0\n');
    c = ioheme('coordinator', ['import', csv, '--reason', 'bulk correction']);
    t.check(c.status !== 0 && /locked/.test(c.stdout + c.stderr), 'an import into it is refused', c.stdout + c.stderr);
    // a change elsewhere that would recompute its calc: refused whole, nothing half-saved
    r = await save('t6h_arm_1', { hd_sbp: 120, hd_dbp: 70 }, 'BP mistyped');
    t.check(r.status === 409 && /eff_map6_ok/.test(r.text), 'a 6 h BP change that recomputes eff_map6_ok is refused (409)', r.text);
    let now = JSON.parse(cli(IOHEME, db, ['show', 'IOH-001', '--json']));
    t.check(val(now, 't6h_arm_1', 'haemodynamics', 'hd_sbp') === '88' && val(now, 't24h_arm_1', 'efficacy', 'eff_map6_ok') === '0',
        'nothing of the refused change was saved', [val(now, 't6h_arm_1', 'haemodynamics', 'hd_sbp'), val(now, 't24h_arm_1', 'efficacy', 'eff_map6_ok')]);
    r = await save('t6h_arm_1', { hd_hr: 95 });
    t.check(r.status === 200, 'other forms stay open (heart rate at 6 h saved)', r.text);

    // the pages
    let page = await call(B, 'GET', '/records/IOH-001/forms/t24h_arm_1/efficacy', { session: nurse });
    t.check(/This form is locked/.test(page.text) && /<fieldset class="readonly" disabled>/.test(page.text) && !/>Save<\/button>/.test(page.text),
        'the form page says it is locked and offers no save');
    t.check(!/Unlock this form/.test(page.text), 'the coordinator is offered no unlock');
    page = await call(B, 'GET', '/records/IOH-001/forms/t24h_arm_1/efficacy', { session: dm });
    t.check(/Unlock this form/.test(page.text), 'the data manager is offered the unlock');
    r = await call(B, 'POST', '/records/IOH-001/forms/t24h_arm_1/efficacy', { session: nurse, form: { eff_delivered: '0', __reason: 'x' } });
    t.check(r.status === 422 && /locked/.test(r.text), 'a save posted from the page is refused', r.status);
    r = await call(B, 'POST', '/api/v1/queries', { session: mon, json: { record: 'IOH-001', event: 't6h_arm_1', field: 'hd_sbp', message: 'BP 88/48 on noradrenaline?' } });
    t.check(r.status === 201, 'a query on the 6 h haemodynamics', r.text);
    page = await call(B, 'GET', '/records/IOH-001', { session: nurse });
    t.check(/Efficacy at [^<]*: [^<]*, locked</.test(page.text), 'the grid marks the locked form', page.text.match(/<span class="sr">Efficacy[^<]*<\/span>/g));
    t.check(/Haemodynamics at [^<]*6 h[^<]*, 1 live query</.test(page.text), 'the grid counts the live query on its form', page.text.match(/<span class="sr">Haemodynamics[^<]*<\/span>/g));

    // unlock: a reason first; from the page
    r = await call(B, 'POST', '/api/v1/records/IOH-001/unlock', { session: dm, json: { event: 't24h_arm_1', form: 'efficacy' } });
    t.check(r.status === 422 && r.json.error.code === 'reason_required', 'unlocking without a reason is refused', r.text);
    r = await call(B, 'POST', '/records/IOH-001/forms/t24h_arm_1/efficacy/unlock', { session: dm, form: { reason: 'BP transcription error found' } });
    t.check(r.status === 303, 'unlocked from the form page (303 back)', r.status);
    r = await save('t6h_arm_1', { hd_sbp: 120, hd_dbp: 70 }, 'BP mistyped');
    now = JSON.parse(cli(IOHEME, db, ['show', 'IOH-001', '--json']));
    t.check(r.status === 200 && val(now, 't24h_arm_1', 'efficacy', 'eff_map6_ok') === '1', 'after the unlock the correction saves and eff_map6_ok is 1', r.text);

    // a whole-record lock: no form lock under it; the page and the API refuse writes
    r = await call(B, 'POST', '/records/IOH-001/lock', { session: dm, form: { reason: '' } });
    t.check(r.status === 303, 'the record locked from its page', r.status);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/lock', { session: dm, json: lockBody });
    t.check(r.status === 409, 'no form lock inside a locked record (409)', r.text);
    r = await save('t6h_arm_1', { hd_hr: 96 });
    t.check(r.status === 409, 'a save to a locked record is refused (409)', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/unlock', { session: dm, json: { reason: 'monitoring visit reopened' } });
    t.check(r.status === 200 && r.json.locked === false, 'the record unlocked through the API', r.text);

    // the casebook print carries the record's trail (P11-18) for the roles that read the trail
    page = await call(B, 'GET', '/records/IOH-001/casebook', { session: mon });
    t.check(/Audit trail of this record/.test(page.text) && /<td data-label="Action">form_lock<\/td>/.test(page.text) &&
            /BP transcription error found/.test(page.text) && /<td data-label="Field">Systolic blood pressure<\/td>/.test(page.text),
        'the casebook lists the record\'s audit rows: locks, reasons, fields by label');
    page = await call(B, 'GET', '/records/IOH-001/casebook', { session: nurse });
    t.check(page.status === 200 && !/Audit trail of this record/.test(page.text), 'not for a coordinator (no audit_read)');

    // the trail
    const trail = cli(IOHEME, db, ['audit', 'export']);
    t.check(/,form_lock,IOH-001,t24h_arm_1,0,efficacy,unlocked,locked,reviewed,/.test(trail), 'the lock is audited', trail.split('\n').filter((l) => /form_/.test(l)));
    t.check(/,form_unlock,IOH-001,t24h_arm_1,0,efficacy,locked,unlocked,BP transcription error found,/.test(trail), 'the unlock is audited with its reason');
    const v = cli(IOHEME, db, ['audit', 'verify']);
    t.check(/ok|verified|intact/i.test(v), 'the audit chain verifies', v);
} finally {
    await srv.stop();
}
t.done();
