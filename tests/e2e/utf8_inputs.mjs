// Text that is not UTF-8 (or holds a control character XML cannot carry) is refused at every
// door, with nothing saved: a value or a reason
// posted from the web form (a percent-encoded 0xFF byte), a value imported through REDCap's API
// and from a CSV file, a value set from the command line, a query's message. Before, such bytes
// were stored (the web form answered 303 "saved") and then every reader of the record broke:
// the JSON API answered 500 for the record and its audit trail, `history --json` printed [],
// and the ODM export was XML that no parser takes (found by fuzz_http).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeDb, startServer, call, login, runner, sql, redcapPost, ELIGIBLE, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('utf8_inputs');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

// The CLI through sh, so that an argument can carry a raw 0xFF byte ($(printf '\377')).
function sh(who, script) {
    return spawnSync('sh', ['-c', script], {
        env: { ...process.env, I: IOHEME, DB: db, IOHEME_USER: who, IOHEME_PASSWORD: PASSWORD[who] },
        encoding: 'utf8',
    });
}
const drug = () => sql(db, "SELECT count(*) FROM value WHERE field = 'bl_first_drug'").stdout.trim();
const auditRows = () => sql(db, 'SELECT count(*) FROM audit').stdout.trim();

try {
    const nurse = await login(B, 'coordinator'), dm = await login(B, 'data_manager');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'fixture: IOH-001 enrolled', r.text);
    const audit0 = auditRows();

    // the web form: a value, then a reason, each one 0xFF byte
    const post = (body) => call(B, 'POST', '/records/IOH-001/forms/baseline_arm_1/baseline',
        { session: nurse, raw: `csrf=${nurse.csrf}&${body}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    r = await post('bl_first_drug=a%FFb');
    t.check(r.status !== 303 && /not valid UTF-8/.test(r.text), 'web form: a value of bytes that are not UTF-8 is refused, saying why', `${r.status} ${r.text.slice(0, 300)}`);
    r = await post('bl_first_drug=noradrenaline&__reason=%FF');
    t.check(r.status !== 303 && /not valid UTF-8/.test(r.text), 'web form: so is such a reason', `${r.status} ${r.text.slice(0, 300)}`);
    t.check(drug() === '0' && auditRows() === audit0, 'nothing was saved or audited', `${drug()} values, audit ${audit0} -> ${auditRows()}`);

    // REDCap's API: an import whose data holds the byte
    r = await call(B, 'POST', '/api/v1/tokens', { session: nurse, json: { format: 'redcap' } });
    const T = r.json.token;
    r = await redcapPost(B, `token=${T}&content=record&format=csv&type=flat&data=${encodeURIComponent('record_id,redcap_event_name,bl_first_drug\nIOH-001,baseline_arm_1,a')}%FF${encodeURIComponent('b\n')}`);
    t.check(r.status === 400 && /bl_first_drug/.test(r.text) && /UTF-8/.test(r.text),
            'REDCap API import: 400, its error (REDCap\'s text for format=csv) naming the field and UTF-8', `${r.status} ${r.text}`);
    t.check(drug() === '0', 'nothing imported', drug());
    // as PyCap sends it: CSV data, errors asked for as JSON
    r = await redcapPost(B, `token=${T}&content=record&format=csv&returnFormat=json&type=flat&data=${encodeURIComponent('record_id,redcap_event_name,bl_first_drug\nIOH-001,baseline_arm_1,a')}%FF${encodeURIComponent('b\n')}`);
    t.check(r.status === 400 && typeof r.json?.error === 'string' && /bl_first_drug/.test(r.json.error) && /UTF-8/.test(r.json.error),
            'REDCap API import with returnFormat=json: 400 {"error"} naming the field and UTF-8', `${r.status} ${r.text}`);

    // an export asking for a field whose name is such a byte: REDCap's JSON error, the byte as
    // U+FFFD (before: 500, the error message could not be made JSON; found by fuzz_http)
    r = await call(B, 'POST', '/api/v1/tokens', { session: dm, json: { format: 'redcap' } });
    r = await redcapPost(B, `token=${r.json.token}&content=record&format=json&fields=%FF`);
    t.check(r.status === 400 && typeof r.json?.error === 'string' && r.json.error.includes('\uFFFD'),
            'REDCap API export of fields=%FF: 400 {"error"} with U+FFFD', `${r.status} ${r.text}`);

    // a control character no export can carry, pasted from Word (its line break, U+000B):
    // refused through the API, named, nothing saved
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 'baseline_arm_1', values: { bl_first_drug: 'nor\u000badrenaline' } } });
    t.check(r.status === 422 && /U\+000B/.test(r.text) && drug() === '0', 'API: a value with U+000B is refused (422), naming it; nothing saved', `${r.status} ${r.text.slice(0, 300)}`);

    // the command line: set, and a CSV import (row and column named)
    let c = sh('coordinator', `"$I" set IOH-001 baseline "bl_first_drug=$(printf 'a\\377b')" --db "$DB"`);
    t.check(c.status !== 0 && /bl_first_drug/.test(c.stderr) && /UTF-8/.test(c.stderr), 'ioheme set: refused, naming the field', c.stderr);
    fs.writeFileSync(path.join(dir, 'bad.csv'), Buffer.concat([
        Buffer.from('record_id,redcap_event_name,bl_first_drug\nIOH-001,baseline_arm_1,a'), Buffer.from([0xff]), Buffer.from('b\n')]));
    c = sh('coordinator', `"$I" import "${path.join(dir, 'bad.csv')}" --db "$DB"`);
    t.check(c.status !== 0 && /bl_first_drug/.test(c.stderr) && /UTF-8/.test(c.stderr), 'ioheme import: refused, naming the column', c.stderr);
    // --json lists each rejection even when it names the file's own bad bytes (a record ID):
    // before, the list came out empty (found by fuzz_import)
    fs.writeFileSync(path.join(dir, 'badid.csv'), Buffer.concat([
        Buffer.from('record_id,redcap_event_name,bl_first_drug\nIOH-'), Buffer.from([0xff]), Buffer.from(',baseline_arm_1,x\n')]));
    c = sh('coordinator', `"$I" import "${path.join(dir, 'badid.csv')}" --json --db "$DB"`);
    let rej = [];
    try { rej = JSON.parse(c.stdout).rejected; } catch { /* not JSON */ }
    t.check(c.status === 3 && rej.length > 0 && rej.every((x) => typeof x.message === 'string') && rej.some((x) => x.record === 'IOH-\uFFFD'),
            'ioheme import --json: the rejection of a record ID that is not UTF-8 is listed, with U+FFFD', c.stdout + c.stderr);
    c = sh('data_manager', `"$I" query open IOH-001 --message "$(printf 'see \\377')" --db "$DB"`);
    t.check(c.status !== 0 && /UTF-8/.test(c.stderr), 'ioheme query open: a message that is not UTF-8 is refused', c.stderr);
    c = sh('data_manager', `"$I" lock IOH-001 --db "$DB" && "$I" unlock IOH-001 --reason "$(printf '\\377')" --db "$DB"`);
    t.check(c.status !== 0 && /reason/.test(c.stderr) && /UTF-8/.test(c.stderr), 'ioheme unlock: such a reason is refused', c.stderr);
    c = sh('data_manager', '"$I" unlock IOH-001 --reason "checked" --db "$DB"');
    t.check(c.status === 0, 'and a UTF-8 one unlocks', c.stderr);
    t.check(drug() === '0', 'still no value stored', drug());

    // and every reader still reads the record
    r = await call(B, 'GET', '/api/v1/records/IOH-001', { session: nurse });
    t.check(r.status === 200, 'GET the record: 200', `${r.status} ${r.text.slice(0, 200)}`);
    r = await call(B, 'GET', '/api/v1/records/IOH-001/audit', { session: dm });
    t.check(r.status === 200, 'GET its audit trail: 200', `${r.status} ${r.text.slice(0, 200)}`);
    c = sh('data_manager', '"$I" audit verify --db "$DB"');
    t.check(c.status === 0, 'the audit chain verifies', c.stderr + c.stdout);

    // A SQLite study written before these refusals may hold such bytes (PostgreSQL never took
    // them): its readers show U+FFFD for each, as a browser would, instead of failing.
    if (!db.includes('://')) {
        r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 'baseline_arm_1', values: { bl_first_drug: 'Noradrenaline' } } });
        t.check(r.status === 200, 'fixture: a value saved', r.text);
        const u = sql(db, "UPDATE value SET value = CAST(X'4E6F7261FF64' AS TEXT) WHERE field = 'bl_first_drug'");
        t.check(u.status === 0, 'fixture: the value made Windows-1252 behind the store\'s back', u.stderr);
        r = await call(B, 'GET', '/api/v1/records/IOH-001', { session: nurse });
        t.check(r.status === 200 && r.json.values.some((v) => v.field === 'bl_first_drug' && v.value === 'Nora\uFFFDd'),
                'an old study\'s bytes: GET the record answers 200, the bad byte as U+FFFD', `${r.status} ${r.text.slice(0, 200)}`);
        c = sh('coordinator', '"$I" show IOH-001 --json --db "$DB"');
        t.check(c.status === 0 && c.stdout.includes('"bl_first_drug": "Nora\uFFFDd"'),
                'ioheme show --json shows it too', c.stdout.slice(0, 300) + c.stderr);
        r = await call(B, 'POST', '/api/v1/tokens', { session: dm, json: { format: 'redcap' } });
        const TX = r.json.token; // the data manager's: a coordinator may not export
        r = await redcapPost(B, `token=${TX}&content=record&format=json&type=flat`);
        t.check(r.status === 200 && Array.isArray(r.json) && r.json.some((x) => x.bl_first_drug === 'Nora\uFFFDd'),
                'REDCap API record export (json): 200 with U+FFFD', `${r.status} ${r.text.slice(0, 200)}`);
        // the bytes as sent (fetch's text() would itself replace what is not UTF-8)
        const res = await fetch(`${B}/api/`, { method: 'POST', body: `token=${TX}&content=record&format=xml&type=flat`,
                                               headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
        fs.writeFileSync(path.join(dir, 'old-records.xml'), Buffer.from(await res.arrayBuffer()));
        c = spawnSync('xmllint', ['--noout', path.join(dir, 'old-records.xml')], { encoding: 'utf8' });
        t.check(res.status === 200 && c.status === 0, 'and as xml: XML a parser reads', `${res.status} ${c.stderr}`);
        c = sh('data_manager', `"$I" export odm --out "${path.join(dir, 'old.xml')}" --db "$DB" && xmllint --noout "${path.join(dir, 'old.xml')}"`);
        t.check(c.status === 0, 'and the ODM export is XML a parser reads', c.stderr);

        // a value holding a control character XML cannot carry (Word's line break, U+000B),
        // stored before values were held to that: the XML exports write U+FFFD for it (before,
        // neither the ODM export nor REDCap's XML records were well-formed XML)
        const u3 = sql(db, "UPDATE value SET value = CAST(X'4E6F72610B64' AS TEXT) WHERE field = 'bl_first_drug'");
        t.check(u3.status === 0, 'fixture: a value with U+000B behind the store\'s back', u3.stderr);
        const res3 = await fetch(`${B}/api/`, { method: 'POST', body: `token=${TX}&content=record&format=xml&type=flat`,
                                                headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
        fs.writeFileSync(path.join(dir, 'ctl-records.xml'), Buffer.from(await res3.arrayBuffer()));
        c = spawnSync('xmllint', ['--noout', path.join(dir, 'ctl-records.xml')], { encoding: 'utf8' });
        t.check(res3.status === 200 && c.status === 0 && fs.readFileSync(path.join(dir, 'ctl-records.xml'), 'utf8').includes('Nora\uFFFDd'),
                'REDCap API xml export: well-formed, U+FFFD for U+000B', `${res3.status} ${c.stderr}`);
        c = sh('data_manager', `"$I" export odm --no-audit --out "${path.join(dir, 'ctl.xml')}" --db "$DB" && xmllint --noout "${path.join(dir, 'ctl.xml')}"`);
        t.check(c.status === 0 && fs.readFileSync(path.join(dir, 'ctl.xml'), 'utf8').includes('Value="Nora\uFFFDd"'),
                'and the ODM export (a Snapshot): well-formed, U+FFFD for U+000B', c.stderr);
        r = await call(B, 'GET', '/api/v1/records/IOH-001', { session: nurse });
        t.check(r.status === 200 && r.json.values.some((v) => v.field === 'bl_first_drug' && v.value === 'Nora\u000bd'),
                'the JSON API gives it as it is (JSON can)', `${r.status} ${r.text.slice(0, 200)}`);

        // a query whose message was stored as such bytes: the query and its thread still read
        r = await call(B, 'POST', '/api/v1/queries', { session: dm, json: { record: 'IOH-001', event: 'baseline_arm_1', field: 'bl_first_drug', message: 'which drug?' } });
        t.check(r.status === 201, 'fixture: a query raised', r.text);
        const qid = r.json && r.json.id;
        const qm = sql(db, `INSERT INTO query_message(query_id, ts, user, action, text) SELECT ${Number(qid)}, ts, user, 'answer', CAST(X'4E6F7261FF64' AS TEXT) FROM query_message WHERE query_id = ${Number(qid)}`);
        t.check(qm.status === 0, 'fixture: an answer stored as Windows-1252', qm.stderr);
        r = await call(B, 'GET', `/api/v1/queries/${qid}`, { session: dm });
        t.check(r.status === 200 && r.json.thread.some((m) => m.text === 'Nora\uFFFDd'),
                'GET the query: 200, its message with U+FFFD', `${r.status} ${r.text.slice(0, 300)}`);
        r = await call(B, 'GET', '/api/v1/queries?record=IOH-001', { session: dm });
        t.check(r.status === 200 && r.json.queries.some((q) => q.id === qid),
                'and the query list still holds it', `${r.status} ${r.text.slice(0, 300)}`);

        // A protocol stored before the loader refused such bytes (a dictionary saved as
        // Windows-1252, which `ioheme init` took): the study must still open. Before, every
        // command that opened it failed ("the protocol stored in the database: dictionary.csv:
        // …: not valid UTF-8 text"), the whole study unusable after an upgrade.
        const u2 = sql(db, "UPDATE protocol_file SET content = replace(content, 'Screening date', 'Screening date (d' || CAST(X'E9' AS TEXT) || 'but)') WHERE name = 'dictionary.csv'");
        const hit = sql(db, "SELECT count(*) FROM protocol_file WHERE name = 'dictionary.csv' AND instr(content, CAST(X'E9' AS TEXT)) > 0");
        t.check(u2.status === 0 && hit.stdout.trim() === '1', 'fixture: a label of the stored dictionary made Windows-1252', u2.stderr + hit.stdout);
        c = sh('data_manager', '"$I" db status --db "$DB"');
        t.check(c.status === 0, 'an old study\'s Windows-1252 protocol: the study opens', c.stderr);
        const rdir = path.join(dir, 'old-redcap');
        c = sh('data_manager', `"$I" export redcap --out "${rdir}" --db "$DB" && "$I" protocol check "${rdir}"`);
        const dictText = fs.existsSync(path.join(rdir, 'dictionary.csv')) ? fs.readFileSync(path.join(rdir, 'dictionary.csv'), 'utf8') : '';
        t.check(c.status === 0 && dictText.includes('Screening date (d\uFFFDbut)'),
                'its REDCap export holds the label with U+FFFD, a dictionary the loader takes back', c.stderr + c.stdout);
        c = sh('data_manager', `"$I" export odm --metadata-only --out "${path.join(dir, 'old-meta.xml')}" --db "$DB" && xmllint --noout "${path.join(dir, 'old-meta.xml')}"`);
        t.check(c.status === 0 && fs.readFileSync(path.join(dir, 'old-meta.xml'), 'utf8').includes('Screening date (d\uFFFDbut)'),
                'and its ODM metadata is XML a parser reads, the label with U+FFFD', c.stderr);
    }
} catch (err) {
    t.check(false, 'no exception', String(err.stack || err));
} finally {
    await srv.stop();
}
t.done();
