// Source data verification end to end on the io-heme protocol and its plan (sdv.csv): the
// monitor verifies the primary-endpoint attempt form through the API and the screening form
// from its page; a coordinator may not; a later correction clears the verification (audited,
// visible in the listing); progress per record/form agrees between API and CLI; the chain
// verifies.
import { makeDb, startServer, call, login, cli, runner, ELIGIBLE } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('sdv');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

try {
    const nurse = await login(B, 'coordinator'), mon = await login(B, 'monitor');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'fixture: IOH-001 enrolled', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 'io_procedure_arm_1', instance: 1, values: {
        att_placement: 1, att_number: 1, att_site: 2, att_side: 1, att_start_dt: '2026-11-20 10:41:05', att_end_dt: '2026-11-20 10:41:50', att_outcome: 1 } } });
    t.check(r.status === 200, 'an IO attempt entered', r.text);

    r = await call(B, 'GET', '/api/v1/sdv?record=IOH-001', { session: mon });
    const attempt0 = r.json.progress.find((c) => c.form === 'io_attempt');
    t.check(r.status === 200 && attempt0 && attempt0.required === 7 && attempt0.required_verified === 0 && r.json.plan_met === false,
        'the plan asks for the 7 attempt values, none verified yet', r.text);

    r = await call(B, 'POST', '/api/v1/records/IOH-001/sdv', { session: nurse, json: { event: 'io_procedure_arm_1', instance: 1, form: 'io_attempt' } });
    t.check(r.status === 403 && r.json.error.code === 'forbidden', 'a coordinator may not verify (403)', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/sdv', { session: mon, json: { event: 'io_procedure_arm_1', instance: 1, form: 'io_attempt' } });
    t.check(r.status === 200 && r.json.verified === 7, 'the monitor verifies the attempt form (7 values)', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/sdv', { session: mon, json: { event: 'io_procedure_arm_1', instance: 1, form: 'no_such_form' } });
    t.check(r.status === 422 && r.json.error.field === 'form', 'an unknown form is a 422 naming "form"', r.text);

    // the screening form, from its page
    let page = await call(B, 'GET', '/records/IOH-001/forms/screening_arm_1/screening', { session: mon });
    t.check(/Source data verification/.test(page.text) && /Mark every value here verified/.test(page.text), 'the form page offers "mark verified" to the monitor');
    page = await call(B, 'GET', '/records/IOH-001/forms/screening_arm_1/screening', { session: nurse });
    t.check(/Source data verification/.test(page.text) && !/Mark every value here verified/.test(page.text), 'the coordinator sees progress, no button');
    r = await call(B, 'POST', '/records/IOH-001/forms/screening_arm_1/screening/sdv', { session: mon, form: {} });
    t.check(r.status === 303, 'verified from the page (303 back to the form)', r.status);
    page = await call(B, 'GET', '/records/IOH-001/forms/screening_arm_1/screening', { session: mon });
    const m = /<span id="sdv-count">(\d+) of (\d+)<\/span>/.exec(page.text);
    t.check(m && m[1] === m[2], 'every stored screening value is verified', m && m[0]);

    // a correction clears the verification of that value only
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 'io_procedure_arm_1', instance: 1, values: { att_side: 2 }, reason: 'side mistyped' } });
    t.check(r.status === 200, 'att_side corrected', r.text);
    r = await call(B, 'GET', '/api/v1/records/IOH-001/sdv', { session: mon });
    const side = r.json.values.find((v) => v.field === 'att_side'), site = r.json.values.find((v) => v.field === 'att_site');
    t.check(side && side.verified === false && side.planned === true && side.value === '2', 'the corrected value is no longer verified', side);
    t.check(site && site.verified === true && site.verified_by === 'monitor', 'the others stay verified, with who', site);
    r = await call(B, 'GET', '/api/v1/records/IOH-001/audit', { session: mon });
    t.check(r.json.audit.some((a) => a.action === 'sdv_clear' && a.field === 'att_side' && a.old === '1' && a.new === '2'), 'the clearing is in the audit trail', r.text.slice(0, 300));

    // the CLI agrees
    const st = JSON.parse(cli(IOHEME, db, ['sdv', 'status', '--record', 'IOH-001', '--json']));
    const a1 = st.progress.find((c) => c.form === 'io_attempt');
    t.check(a1.required === 7 && a1.required_verified === 6 && st.plan_met === false, 'CLI progress: 6 of 7 attempt values', a1);
    const out = cli(IOHEME, db, ['sdv', 'verify', 'IOH-001', 'io_procedure:1', '--field', 'att_side']);
    t.check(/1 value\(s\) verified/.test(out), 'CLI verifies one field', out);
    t.check(/intact/.test(cli(IOHEME, db, ['audit', 'verify'])), 'the audit chain verifies');
    page = await call(B, 'GET', '/', { session: mon });
    t.check(/SDV: \d+ of \d+ planned values verified/.test(page.text), 'the dashboard shows SDV progress');
} finally {
    await srv.stop();
    t.done();
}
