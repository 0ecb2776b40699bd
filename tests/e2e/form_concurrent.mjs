// Two people with the same form open (a nurse at the bedside tablet, a coordinator at the desk):
// a save sends only what its user changed, each judged against what the page showed
// (form_render.c, "what the page showed"). Before, a form page posted every field as it stood
// when the page was opened, so the second save silently put back the first one's values (a
// lost update, audited as the second user's change). Now: fields the second user left alone
// keep the first user's values; a field both changed is refused as a conflict (409, nothing of
// that save written), the page showing what is stored now, and a second save overwrites it
// deliberately; a status one user set is not reverted by the other's save; a note's line breaks,
// which a browser sends back as CRLF, are not a change. The JSON API takes the same promise
// ("expect").
import { makeDb, startServer, call, login, runner, sql, ELIGIBLE } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('form_concurrent');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

const decode = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attrs = (tag) => {
    const a = {};
    for (const m of tag.matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) a[m[1]] = m[2] === undefined ? '' : decode(m[2]);
    return a;
};
// What a browser submits for the data-entry form of page html, after edit(fields) changed some
// of its inputs: enabled inputs by name, a checkbox or radio when checked, a select's selected
// option, a textarea's text with its line breaks as CRLF (HTML's form submission).
function submit(html, edit = {}) {
    const form = html.slice(html.indexOf('<form method="post" class="crf"'));
    const body = form.slice(0, form.indexOf('</form>'));
    const f = [];
    for (const m of body.matchAll(/<input\b[^>]*>/g)) {
        const a = attrs(m[0]);
        if (!a.name || 'disabled' in a) continue;
        if ((a.type === 'checkbox' || a.type === 'radio') && !('checked' in a)) continue;
        f.push([a.name, a.value ?? '']);
    }
    for (const m of body.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
        const a = attrs(m[1]);
        const sel = [...m[2].matchAll(/<option\b([^>]*)>/g)].map((o) => attrs(o[1])).find((o) => 'selected' in o);
        if (a.name) f.push([a.name, sel ? sel.value : '']);
    }
    for (const m of body.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g)) {
        const a = attrs(m[1]);
        if (a.name) f.push([a.name, decode(m[2]).replace(/\r?\n/g, '\r\n')]);
    }
    const out = f.filter(([k]) => !(k in edit));
    for (const [k, v] of Object.entries(edit)) if (v !== null) out.push([k, v]);
    return new URLSearchParams(out).toString();
}
const HD = '/records/IOH-001/forms/t0_arm_1/haemodynamics';
const page = async (who, p = HD) => (await call(B, 'GET', p, { session: who })).text;
const post = (who, body, p = HD) => call(B, 'POST', p, { session: who, raw: body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
const stored = (event, field) => sql(db, `SELECT value FROM value WHERE event = '${event}' AND field = '${field}'`).stdout.trim();
const audits = () => Number(sql(db, 'SELECT count(*) FROM audit').stdout.trim());

try {
    const nurse = await login(B, 'coordinator'), desk = await login(B, 'investigator');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'fixture: IOH-001 enrolled', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 't0_arm_1', values: { hd_status: '1', hd_dt: '2026-11-20 10:30', hd_sbp: 80, hd_dbp: 45, hd_hr: 120 } } });
    t.check(r.status === 200, 'fixture: T0 haemodynamics saved', r.text);

    // both open the form; the nurse corrects the heart rate, then the desk saves the SBP
    const atBed = await page(nurse), atDesk = await page(desk);
    t.check(/name="__orig\.hd_hr" value="120"/.test(atDesk), 'the page carries the value each input showed', atDesk.slice(0, 200));
    r = await post(nurse, submit(atBed, { hd_hr: '124' }));
    t.check(r.status === 303 && stored('t0_arm_1', 'hd_hr') === '124', 'the nurse saves HR 124', `${r.status} ${stored('t0_arm_1', 'hd_hr')}`);
    r = await post(desk, submit(atDesk, { hd_sbp: '82' }));
    t.check(r.status === 303, 'the desk saves SBP 82 from the page opened before', `${r.status} ${r.text.slice(0, 300)}`);
    t.check(stored('t0_arm_1', 'hd_sbp') === '82' && stored('t0_arm_1', 'hd_hr') === '124',
        'the nurse\'s HR 124 is still stored (before: the desk\'s page put 120 back)', `sbp ${stored('t0_arm_1', 'hd_sbp')} hr ${stored('t0_arm_1', 'hd_hr')}`);

    // both change the same field: the second is refused, shown what is stored now
    const bed2 = await page(nurse), desk2 = await page(desk);
    r = await post(nurse, submit(bed2, { hd_hr: '130' }));
    t.check(r.status === 303, 'the nurse saves HR 130', String(r.status));
    const n0 = audits();
    r = await post(desk, submit(desk2, { hd_hr: '118', hd_rr: '22' }));
    t.check(r.status === 409 && /changed by another save since this form was opened/.test(r.text) && /Stored now: “130”/.test(r.text),
        'the desk\'s HR 118 over it: 409, saying so and showing 130 stored now', `${r.status} ${(r.text.match(/Not saved[^<]*/) || [''])[0]}`);
    t.check(stored('t0_arm_1', 'hd_hr') === '130' && stored('t0_arm_1', 'hd_rr') === '' && audits() === n0,
        'nothing of that save was written (nor its RR)', `hr ${stored('t0_arm_1', 'hd_hr')} rr '${stored('t0_arm_1', 'hd_rr')}' audit +${audits() - n0}`);
    t.check(/id="i-hd_hr"[^>]*value="118"/.test(r.text) && /id="i-hd_rr"[^>]*value="22"/.test(r.text) &&
        /name="__orig\.hd_hr" value="130"/.test(r.text), 'the refused page keeps the desk\'s input, now judged against 130', '');
    r = await post(desk, submit(r.text));
    t.check(r.status === 303 && stored('t0_arm_1', 'hd_hr') === '118' && stored('t0_arm_1', 'hd_rr') === '22',
        'saved again, knowingly: 118 and RR 22', `${r.status} hr ${stored('t0_arm_1', 'hd_hr')}`);

    // a status set by one is not reverted by the other's save of a value
    const bed3 = await page(nurse), desk3 = await page(desk);
    r = await post(nurse, submit(bed3, { __status: '1' }));
    t.check(r.status === 303, 'the nurse marks the form unverified', String(r.status));
    r = await post(desk, submit(desk3, { hd_spo2: '93' }));
    const st = sql(db, "SELECT status FROM form_status WHERE event = 't0_arm_1' AND form = 'haemodynamics'").stdout.trim();
    t.check(r.status === 303 && st === '1' && stored('t0_arm_1', 'hd_spo2') === '93', 'the desk\'s SpO2 saved, the status stays unverified', `${r.status} status ${st}`);

    // a note's line breaks come back from a browser as CRLF: saving the form untouched changes nothing
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 'end_of_study_arm_1', values: { eos_comments: 'line one\nline two' } } });
    t.check(r.status === 200, 'fixture: a two-line comment saved through the API', r.text);
    const EOS = '/records/IOH-001/forms/end_of_study_arm_1/end_of_study';
    const noteAudits = () => Number(sql(db, "SELECT count(*) FROM audit WHERE field = 'eos_comments'").stdout.trim());
    const n1 = noteAudits();
    r = await post(desk, submit(await page(desk, EOS)), EOS);
    t.check(r.status === 303 && noteAudits() === n1 && stored('end_of_study_arm_1', 'eos_comments') === 'line one\nline two',
        'an untouched note is no change (no audit row, LF kept; before: rewritten with CRLF)', `${r.status} audit +${noteAudits() - n1} ${JSON.stringify(stored('end_of_study_arm_1', 'eos_comments'))}`);

    // the JSON API takes the same promise: "expect", the values read before
    const apiSave = (values, expect) => call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 't0_arm_1', values, expect } });
    r = await apiSave({ hd_hr: 119 }, { hd_hr: 124 });
    t.check(r.status === 409 && r.json.error.code === 'conflict' && r.json.error.issues.some((i) => i.rule === 'conflict' && i.field === 'hd_hr') &&
        stored('t0_arm_1', 'hd_hr') === '118', 'API: HR 119 expecting 124 (the desk saved 118): 409 conflict, not saved', `${r.status} ${r.text.slice(0, 300)}`);
    r = await apiSave({ hd_hr: 119 }, { hd_hr: 118 });
    t.check(r.status === 200 && stored('t0_arm_1', 'hd_hr') === '119', 'API: expecting 118, saved', `${r.status} ${r.text.slice(0, 200)}`);
    r = await apiSave({ hd_hr: 120 }, { hd_rr: 22 });
    t.check(r.status === 422 && /expect names 'hd_rr', which values does not change/.test(r.text) && stored('t0_arm_1', 'hd_hr') === '119',
        'API: an expect for a field not changed is refused, saying so', `${r.status} ${r.text.slice(0, 200)}`);

    // a post without the page's originals (an older page, a script) saves every field, as before
    r = await post(desk, new URLSearchParams({ csrf: desk.csrf, hd_hr: '118', hd_sbp: '82', hd_dbp: '45', hd_status: '1', hd_dt: '2026-11-20 10:30', hd_rr: '22', hd_spo2: '94' }).toString());
    t.check(r.status === 303 && stored('t0_arm_1', 'hd_spo2') === '94', 'a post without originals still saves', `${r.status} ${r.text.slice(0, 200)}`);
} catch (err) {
    t.check(false, 'no exception', String(err.stack || err));
} finally {
    await srv.stop();
}
t.done();
