// REDCap's forceAutoNumber through POST /api/ and `ioheme import --auto-number` (issue 12 §3:
// "do what REDCap does"): every record the data names is created under a new name, numbered as
// enrolment numbers (the protocol's study_id_format, here REDCap's plain {seq}); rows naming the
// same record go to the same new one; returnContent=auto_ids answers "new,given" pairs in each
// format; forceAutoNumber=False (PyCap's spelling) keeps the names; generateNextRecordName says
// the next name. The project is the corpus's rr-simple dictionary (no eligibility criteria, so an
// import creates records). Expected names are counted by hand below: the study starts empty.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeDb, startServer, call, login, runner, sql, cli, redcapPost } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('redcap_auto_number');
const proto = fs.mkdtempSync('/tmp/ioheme-autonum-');
fs.copyFileSync(path.join(SRC, 'tests/fixtures/redcap-corpus/rr-simple/dictionary.csv'), path.join(proto, 'dictionary.csv'));
fs.writeFileSync(path.join(proto, 'study.csv'), 'key,value\nstudy_id_format,{seq}\n');
const { dir, db } = makeDb(IOHEME, SRC, { protocol: proto });
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;
const enc = encodeURIComponent;
const sq = (q) => { const r = sql(db, q); if (r.status !== 0) throw new Error(r.stderr); return r.stdout.trim(); };
const value = (rec, field) => sq(`SELECT v.value FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = '${rec}' AND v.field = '${field}'`);
const nrecords = () => Number(sq('SELECT count(*) FROM record'));

const api = (body) => redcapPost(B, body);

try {
    const s = await login(B, 'coordinator');
    let r = await call(B, 'POST', '/api/v1/tokens', { session: s, json: { format: 'redcap' } });
    const T = r.json.token;
    t.check(/^[0-9A-F]{32}$/.test(T), 'fixture: a coordinator\'s REDCap token', r.text);
    const sx = await login(B, 'data_manager');
    r = await call(B, 'POST', '/api/v1/tokens', { session: sx, json: { format: 'redcap' } });
    const TX = r.json.token; // exports need the export right, which a coordinator lacks

    // records 1 and 2 under the names given (no forceAutoNumber): the numbering starts past them
    r = await api(`token=${T}&content=record&format=json&data=${enc(JSON.stringify([
        { record_id: '1', age: '31' }, { record_id: '2', age: '32' }]))}`);
    t.check(r.status === 200 && r.json.count === 2 && nrecords() === 2, 'fixture: records 1 and 2 imported with their names', r.text);

    r = await api(`token=${T}&content=project&format=json`);
    t.check(r.status === 200 && String(r.json.record_autonumbering_enabled) === '1', 'project: record_autonumbering_enabled 1 (an import may create records)', r.text);
    r = await api(`token=${T}&content=generateNextRecordName`);
    t.check(r.status === 200 && r.text === '3', 'generateNextRecordName: 3', r.text);

    // PyCap's import_records(..., force_auto_number=True, return_content='auto_ids'): record 1 of
    // the data is NOT record 1 of the study; its two rows go to one new record
    const data = [{ record_id: '1', age: '43', weight: '60' },
                  { record_id: 'new', age: '44' },
                  { record_id: '1', comments: 'second row' }];
    r = await api(`token=${T}&content=record&format=json&type=flat&overwriteBehavior=normal&forceAutoNumber=True&returnContent=auto_ids&returnFormat=json&data=${enc(JSON.stringify(data))}`);
    t.check(r.status === 200 && JSON.stringify(r.json) === JSON.stringify(['3,1', '4,new']), 'forceAutoNumber=True, auto_ids: ["3,1","4,new"]', r.text);
    t.check(value('3', 'age') === '43' && value('3', 'comments') === 'second row' && value('3', 'weight') === '60' &&
        value('4', 'age') === '44', '… both rows of record "1" went to 3, "new" to 4', sq(`SELECT study_id FROM record`));
    t.check(value('1', 'age') === '31' && value('1', 'comments') === '' && value('1', 'weight') === '', '… and the study\'s record 1 is untouched', value('1', 'age'));
    t.check(sq(`SELECT count(*) FROM audit WHERE action = 'record_create' AND new_value IN ('3', '4') AND source = 'import'`) === '2',
        '… each creation audited as the import\'s', sq(`SELECT action, new_value, source FROM audit WHERE action = 'record_create'`));

    r = await api(`token=${T}&content=record&format=json&forceAutoNumber=true&data=${enc(JSON.stringify([{ record_id: 'a', age: '45' }]))}`);
    t.check(r.status === 200 && r.json.count === 1 && value('5', 'age') === '45', 'forceAutoNumber=true (REDCapR\'s spelling), count: 1, named 5', r.text);
    r = await api(`token=${T}&content=record&format=csv&forceAutoNumber=1&returnContent=auto_ids&data=${enc('record_id,age\nb,46\n')}`);
    t.check(r.status === 200 && r.text === 'id\n"6,b"\n', 'CSV auto_ids: one cell "6,b" under id', r.text);
    r = await api(`token=${T}&content=record&format=xml&forceAutoNumber=true&returnContent=auto_ids&data=${enc('<records><item><record_id>c</record_id><age>47</age></item></records>')}`);
    t.check(r.status === 200 && /<ids><id>(<!\[CDATA\[)?7,c(\]\]>)?<\/id><\/ids>/.test(r.text) && value('7', 'age') === '47', 'XML auto_ids: <ids><id>7,c</id></ids>', r.text);
    r = await api(`token=${T}&content=record&format=json&forceAutoNumber=True&returnContent=ids&data=${enc(JSON.stringify([{ record_id: 'd', age: '48' }]))}`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '["8"]', 'returnContent=ids under forceAutoNumber: the new names', r.text);

    // PyCap sends forceAutoNumber=False: the names given are kept
    r = await api(`token=${T}&content=record&format=json&forceAutoNumber=False&returnContent=auto_ids&data=${enc(JSON.stringify([{ record_id: 'zz', age: '49' }]))}`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '["zz"]' && value('zz', 'age') === '49', 'forceAutoNumber=False: the record keeps its name (auto_ids answers as ids)', r.text);

    // all or nothing: a refused value creates no record, and the numbers are not used up
    const before = nrecords();
    r = await api(`token=${T}&content=record&format=json&forceAutoNumber=True&data=${enc(JSON.stringify([
        { record_id: 'e', age: '50' }, { record_id: 'f', weight: 'heavy' }]))}`);
    t.check(r.status === 400 && /record f, field weight/.test(r.json.error), 'a refused value: 400 naming the file\'s record and the field', r.text);
    t.check(nrecords() === before, '… and no record created', nrecords());
    r = await api(`token=${T}&content=generateNextRecordName`);
    // enrolment's numbering: the records holding a name (1-8 and zz: 9) plus one, past any taken
    t.check(r.status === 200 && r.text === '10', 'generateNextRecordName after it: 10 (nine named records, none used up)', r.text);
    r = await api(`token=${T}&content=record&format=json&forceAutoNumber=True&returnContent=nonsense&data=${enc('[]')}`);
    t.check(r.status === 400 && /auto_ids/.test(r.json.error), 'an unknown returnContent: 400 naming the choices', r.text);

    // a classic project without repeating forms, exported as REDCap exports one: no
    // redcap_event_name, no redcap_repeat_* (PyCap indexes a classic project by the record ID)
    r = await api(`token=${TX}&content=record&format=json&records=3`);
    t.check(r.status === 200 && r.json.length === 1 && Object.keys(r.json[0])[0] === 'record_id' &&
        !Object.keys(r.json[0]).some((k) => k.startsWith('redcap_')), 'record export (JSON): no redcap_event_name or repeat keys', r.text.slice(0, 200));
    r = await api(`token=${TX}&content=record&format=csv&fields=record_id,age`);
    t.check(r.status === 200 && r.text.split('\n')[0] === 'record_id,age', 'record export (CSV), fields=record_id,age: exactly those columns', r.text.slice(0, 100));
    r = await api(`token=${TX}&content=record&format=json&type=eav&records=3&fields=age`);
    t.check(r.status === 200 && JSON.stringify(r.json) === JSON.stringify([{ record: '3', field_name: 'record_id', value: '3' }, { record: '3', field_name: 'age', value: '43' }]),
        'EAV: record, field_name, value; the record ID a value of its own, as REDCap', r.text);
    // data without the record ID column: each row named, and why (REDCapR's write of a data
    // frame that lost its record_id)
    r = await api(`token=${T}&content=record&format=csv&returnFormat=json&data=${enc('age\n45\n46\n')}`);
    t.check(r.status === 400 && /row 2, record , field record_id: no record ID: the row has no record_id/.test(r.json.error) && /row 3,/.test(r.json.error),
        'CSV data without record_id: rows 2 and 3, each saying the row has no record_id', r.text);
    // REDCapR's redcap_arm_export tells a classic project by this exact text (no newline)
    r = await api(`token=${TX}&content=arm&format=csv`);
    t.check(r.status === 400 && r.text === 'ERROR: You cannot export arms for classic projects', 'arm export of a classic project (csv): REDCap\'s text exactly', JSON.stringify(r.text));
    r = await api(`token=${TX}&content=project&format=json`);
    t.check(r.status === 200 && String(r.json.is_longitudinal) === '0' && String(r.json.has_repeating_instruments_or_events) === '0', 'project: classic, nothing repeats', r.text);
    // repeatingFormsEvents without repeating forms: no rows, in the format asked (PyCap reads
    // CSV into a DataFrame: a header, not JSON's [])
    r = await api(`token=${TX}&content=repeatingFormsEvents&format=csv`);
    t.check(r.status === 200 && r.text === 'form_name,custom_form_label\n', 'repeatingFormsEvents (csv), nothing repeats: the header only', r.text);
    r = await api(`token=${TX}&content=repeatingFormsEvents&format=xml`);
    t.check(r.status === 200 && /<records>\s*<\/records>/.test(r.text), 'repeatingFormsEvents (xml), nothing repeats: <records/>', r.text);
    r = await api(`token=${TX}&content=repeatingFormsEvents&format=json`);
    t.check(r.status === 200 && r.text.trim() === '[]', 'repeatingFormsEvents (json), nothing repeats: []', r.text);

    // the CLI: --auto-number, the mapping printed
    fs.writeFileSync(path.join(dir, 'more.csv'), 'record_id,age,comments\nx,51,\ny,52,\nx,,from the CLI\n');
    const out = JSON.parse(cli(IOHEME, db, ['import', path.join(dir, 'more.csv'), '--auto-number', '--json']));
    t.check(out.imported === true && out.created === 2 && JSON.stringify(out.numbered) === '{"x":"10","y":"11"}' &&
        value('10', 'age') === '51' && value('10', 'comments') === 'from the CLI' && value('11', 'age') === '52', 'ioheme import --auto-number: x -> 10, y -> 11', JSON.stringify(out));
    const odm = spawnSync(IOHEME, ['import', 'odm', path.join(dir, 'more.csv'), '--auto-number', '--db', db], { encoding: 'utf8' });
    t.check(odm.status !== 0 && /--auto-number/.test(odm.stderr), 'import odm --auto-number: refused naming the option', odm.stderr);
} catch (err) {
    t.check(false, 'no exception', err.stack);
} finally {
    const st = await srv.stop();
    t.check(st.code === 0, 'graceful shutdown', JSON.stringify(st));
    fs.rmSync(proto, { recursive: true, force: true });
}
t.done();
