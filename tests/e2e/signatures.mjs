// Electronic signatures end to end on the io-heme protocol (signatures.csv): the investigator
// signs a casebook from its page with the password again and the attestation shown; a wrong
// password is refused (403, the session stays) and audited; a later change shows the signature
// INVALID on the casebook; signing again holds; the CLI lists the same, and `audit verify`
// checks every signature's hash against the data.
import { makeDb, startServer, call, login, cli, runner, ELIGIBLE, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('signatures');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

try {
    const nurse = await login(B, 'coordinator'), inv = await login(B, 'investigator'), adm = await login(B, 'admin');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'fixture: IOH-001 enrolled', r.text);
    const complete = async (event, form, values = {}) => {
        const res = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event, values: { ...values, [`${form}_complete`]: '2' }, reason: 'complete' } });
        t.check(res.status === 200, `fixture: ${form} complete`, res.text);
    };
    // a casebook is signed once its forms are complete: first, one is not
    await complete('screening_arm_1', 'screening');
    r = await call(B, 'POST', '/api/v1/records/IOH-001/signatures', { session: inv, json: { meaning: 'casebook_review', password: PASSWORD.investigator } });
    t.check(r.status === 409 && /not marked complete/.test(r.text), 'signing with a form not complete is refused (409)', r.text);
    await complete('screening_arm_1', 'consent', { cons_withdrawn: '0' });

    let page = await call(B, 'GET', '/records/IOH-001/casebook', { session: inv });
    t.check(/Not signed/.test(page.text) && /I have reviewed the data recorded in this casebook/.test(page.text) && /type="password"/.test(page.text),
        'the casebook offers the investigator the attestation and a password box');
    page = await call(B, 'GET', '/records/IOH-001/casebook', { session: adm });
    t.check(!/type="password"/.test(page.text), 'no sign form for an admin');

    r = await call(B, 'POST', '/records/IOH-001/sign', { session: inv, form: { meaning: 'casebook_review', password: 'wrong-password' } });
    t.check(r.status === 403 && /Not signed/.test(r.text), 'a wrong password is refused on the page (403), nothing signed', r.status);
    r = await call(B, 'GET', '/api/v1/me', { session: inv });
    t.check(r.status === 200, 'the session stays after a wrong signing password', r.status);
    r = await call(B, 'POST', '/records/IOH-001/sign', { session: inv, form: { meaning: 'casebook_review', password: PASSWORD.investigator } });
    t.check(r.status === 303, 'signed from the casebook page (303)', r.status);
    page = await call(B, 'GET', '/records/IOH-001/casebook', { session: nurse });
    t.check(/✔ valid/.test(page.text) && /Investigator review of casebook/.test(page.text) && /\(investigator\)/.test(page.text),
        'the casebook shows the signature: meaning, signer, valid');

    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 'screening_arm_1', values: { cons_obtained_by: '1' }, reason: 'from the consent form' } });
    t.check(r.status === 200, 'a value changed after signing', r.text);
    page = await call(B, 'GET', '/records/IOH-001/casebook', { session: nurse });
    t.check(/✘ INVALID/.test(page.text) && /cons_obtained_by at screening_arm_1 changed after signing/.test(page.text), 'the casebook shows the signature INVALID and why');
    r = await call(B, 'POST', '/api/v1/records/IOH-001/signatures', { session: inv, json: { meaning: 'casebook_review', password: PASSWORD.investigator } });
    t.check(r.status === 201 && r.json.valid === true && r.json.content_sha256.length === 64, 're-signed through the API (201)', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/signatures', { session: inv, json: { meaning: 'db_lock_approval', password: PASSWORD.investigator } });
    t.check(r.status === 422 && r.json.error.field === 'record', 'a study meaning is not signed on a record (422)', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/signatures', { session: nurse, json: { meaning: 'casebook_review', password: PASSWORD.coordinator } });
    t.check(r.status === 403, 'a coordinator may not sign (403)', r.text);

    const list = JSON.parse(cli(IOHEME, db, ['sign', '--list', '--record', 'IOH-001', '--json']));
    t.check(list.length === 2 && list[0].valid === false && list[1].valid === true, 'CLI: the first signature invalid, the second valid', list);
    const trail = cli(IOHEME, db, ['audit', 'export']);
    t.check(trail.includes(',sign,') && trail.includes(',signature_invalid,') && trail.includes(',login_failed,'), 'sign, signature_invalid and the failed password are in the audit trail');
    const v = JSON.parse(cli(IOHEME, db, ['audit', 'verify', '--json']));
    t.check(v.intact === true && v.signatures.valid === 1 && v.signatures.invalidated === 1 && v.signatures.mismatched === 0, 'audit verify checks the signatures', v);
} finally {
    await srv.stop();
    t.done();
}
