// REDCap's API (POST /api/, issue 12 §3): the request bodies REDCap's client libraries send on
// connect and read, replayed byte for byte in each client's own shape — PyCap (requests:
// fields[0]=a, booleans as True/False), REDCapR (httr form: fields=a,b, "false", filterLogic=""),
// redcapAPI (fields[0]=a, returnFormat), PHPCap (http_build_query: fields%5B0%5D=a) — and the
// answers checked against independent oracles: the protocol folder's dictionary.csv read by
// python's csv module, and the values this test typed in itself. A wrong token, a role
// without the right and an unsupported content get REDCap's {"error": "..."} with its status.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeDb, startServer, call, login, runner, sql, ELIGIBLE } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('redcap_api');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

// POST /api/ with a raw urlencoded body, exactly as a client writes it
async function api(body) {
    const res = await fetch(B + '/api/', { method: 'POST', body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    return answer(res);
}

// An answer; an error in REDCap's CSV ("ERROR: …") or XML (<hash><error>…) shape also as
// json.error, its shape in errShape
async function answer(res) {
    const text = await res.text();
    let json = null, errShape = null;
    try { json = JSON.parse(text); errShape = json && json.error ? 'json' : null; } catch { /* CSV or text */ }
    let m;
    if (!json && (m = /^ERROR: ([^]*)$/.exec(text))) { json = { error: m[1] }; errShape = 'csv'; }
    if (!json && (m = /^<\?xml[^>]*>\n<hash><error><!\[CDATA\[([^]*)\]\]><\/error><\/hash>\n$/.exec(text))) { json = { error: m[1] }; errShape = 'xml'; }
    return { status: res.status, text, json, errShape, type: res.headers.get('content-type') };
}

// POST /api/ as multipart/form-data, as httr sends a list body by default (redcapAPI's
// makeApiCall: httr::POST(url, body = list(token = …, …)) with no encode): pairs [name, value]
async function apiMultipart(pairs) {
    const fd = new FormData();
    for (const [k, v] of pairs) fd.append(k, v);
    return answer(await fetch(B + '/api/', { method: 'POST', body: fd }));
}

// python's csv module as the independent CSV reader: text -> array of objects
function pycsv(text) {
    const r = spawnSync('python3', ['-c',
        'import csv,json,sys; print(json.dumps(list(csv.DictReader(sys.stdin))))'], { input: text, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
}
// dictionary.csv by position, with REDCap's API keys (REDCap's dictionary columns are positional)
const KEYS = ['field_name', 'form_name', 'section_header', 'field_type', 'field_label',
    'select_choices_or_calculations', 'field_note', 'text_validation_type_or_show_slider_number',
    'text_validation_min', 'text_validation_max', 'identifier', 'branching_logic', 'required_field',
    'custom_alignment', 'question_number', 'matrix_group_name', 'matrix_ranking', 'field_annotation'];
const dictRows = JSON.parse(spawnSync('python3', ['-c',
    `import csv,json,sys; r=list(csv.reader(open(sys.argv[1], encoding='utf-8-sig'))); ` +
    `print(json.dumps([dict(zip(${JSON.stringify(KEYS)}, (row + ['']*18)[:18])) for row in r[1:] if any(row)]))`,
    path.join(SRC, 'protocols/io-heme/dictionary.csv')], { encoding: 'utf8' }).stdout);

// A REDCap-shaped token (32 upper-case hex characters), as PyCap and REDCapR require.
async function redcapToken(role) {
    const s = await login(B, role);
    const r = await call(B, 'POST', '/api/v1/tokens', { session: s, json: { format: 'redcap' } });
    if (r.status !== 201 && r.status !== 200) throw new Error(`redcap token ${role}: ${r.status} ${r.text}`);
    return r.json.token;
}

async function token(role) {
    const s = await login(B, role);
    const r = await call(B, 'POST', '/api/v1/tokens', { session: s, json: {} });
    if (r.status !== 201 && r.status !== 200) throw new Error(`token ${role}: ${r.status} ${r.text}`);
    return r.json.token;
}

try {
    // fixture: a screened, enrolled record with values this test typed
    const nurse = await login(B, 'coordinator');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    const rec = r.json.study_id;
    t.check(r.status === 200 && rec === 'IOH-001', 'fixture: IOH-001 enrolled', r.text);

    r = await call(B, 'POST', `/api/v1/records/${rec}/forms/screening/status`, { session: nurse, json: { event: 'screening_arm_1', status: 1 } });
    t.check(r.status === 200, 'fixture: screening marked Unverified (1)', r.text);
    const T = await token('data_manager');
    const TC = await token('coordinator');
    const enc = encodeURIComponent;

    // --- the token shape PyCap (len == 32) and REDCapR (^[0-9A-F]{32}$, upper-cased) check ---
    const R32 = await redcapToken('data_manager');
    t.check(/^[0-9A-F]{32}$/.test(R32), 'a REDCap-shaped token: 32 upper-case hex characters', R32);
    r = await api(`token=${R32}&content=version`);
    t.check(r.status === 200 && /^\d+\.\d+\.\d+$/.test(r.text.trim()), 'the 32-character token signs in (version)', r.text);
    r = await api(`token=${R32.toLowerCase()}&content=metadata&format=json&returnFormat=json`);
    t.check(r.status === 200 && Array.isArray(r.json) && r.json.length > 0, 'in either case (metadata)', r.text.slice(0, 200));
    // change the last character to another hex digit (never the same one: that would be the token itself)
    const other = R32.slice(0, 31) + (R32[31] === '0' ? '1' : '0');
    r = await api(`token=${other}&content=version`);
    t.check(r.status === 403 || r.status === 401, 'a different 32-character token does not', r.status);
    r = await call(B, 'POST', '/api/v1/tokens', { session: await login(B, 'data_manager'), json: { format: 'xml' } });
    t.check(r.status === 422 && r.json.error.field === 'format', 'a token format other than redcap is refused', r.text);

    // --- PyCap (Project(url, token) -> metadata, field names, events, arms, version) ---
    r = await api(`token=${T}&content=metadata&format=json&returnFormat=json`);
    t.check(r.status === 200 && Array.isArray(r.json), 'PyCap metadata: 200, a JSON array', r.text.slice(0, 200));
    t.check(r.json.length === dictRows.length, `metadata: one object per dictionary row (${r.json.length} of ${dictRows.length})`);
    t.check(JSON.stringify(r.json) === JSON.stringify(dictRows), 'metadata equals dictionary.csv (python csv) key for key, in REDCap\'s key names');
    // fields and forms together: their union (a form's fields whether listed or not, as REDCap
    // and as the record export); before, only fields in both
    const anyForm = dictRows[dictRows.length - 1].form_name, anyField = dictRows[1].field_name;
    r = await api(`token=${T}&content=metadata&format=json&fields%5B0%5D=${anyField}&forms%5B0%5D=${anyForm}`);
    const want = dictRows.filter((d) => d.field_name === anyField || d.form_name === anyForm).map((d) => d.field_name);
    t.check(r.status === 200 && JSON.stringify(r.json.map((d) => d.field_name)) === JSON.stringify(want) && dictRows[1].form_name !== anyForm,
        `metadata with fields and forms: the union (${want.length} fields)`, r.text.slice(0, 200));
    r = await api(`token=${T}&content=exportFieldNames&format=json&returnFormat=json`);
    const efn = r.json;
    const cb = dictRows.filter((d) => d.field_type === 'checkbox');
    t.check(r.status === 200 && efn.some((x) => x.original_field_name === cb[0].field_name && x.export_field_name.startsWith(cb[0].field_name + '___')),
        'PyCap exportFieldNames: checkbox options as field___code', r.text.slice(0, 200));
    // the oracle from dictionary.csv (python csv), REDCap's rule: calc, file and descriptive
    // fields left out, a checkbox as one row per option, each form's status after its last field
    const efnWant = [];
    dictRows.forEach((d, i) => {
        if (!['calc', 'file', 'descriptive'].includes(d.field_type)) {
            if (d.field_type === 'checkbox')
                for (const ch of d.select_choices_or_calculations.split('|')) {
                    const code = ch.trim().split(',')[0].trim();
                    efnWant.push({ original_field_name: d.field_name, choice_value: code, export_field_name: `${d.field_name}___${code.toLowerCase()}` });
                }
            else
                efnWant.push({ original_field_name: d.field_name, choice_value: '', export_field_name: d.field_name });
        }
        if (i + 1 === dictRows.length || dictRows[i + 1].form_name !== d.form_name)
            efnWant.push({ original_field_name: `${d.form_name}_complete`, choice_value: '', export_field_name: `${d.form_name}_complete` });
    });
    t.check(JSON.stringify(efn) === JSON.stringify(efnWant),
        'exportFieldNames as REDCap: no calc, file or descriptive field, each form\'s status after its fields (dictionary.csv)',
        JSON.stringify(efn.filter((x, i) => JSON.stringify(x) !== JSON.stringify(efnWant[i])).slice(0, 3)));
    t.check(efnWant.some((x) => x.original_field_name === 'consent_complete') &&
        dictRows.some((d) => d.field_type === 'calc'), 'the io-heme dictionary has calcs, and statuses are listed');
    r = await api(`token=${T}&content=exportFieldNames&format=json&field=consent_complete`);
    t.check(r.status === 200 && r.json.length === 1 && r.json[0].export_field_name === 'consent_complete', 'exportFieldNames field=<form>_complete', r.text);
    r = await api(`token=${T}&content=exportFieldNames&format=json&field=nosuch`);
    t.check(r.status === 400 && /nosuch/.test(r.json.error), 'exportFieldNames field=nosuch: 400 naming it', r.text);
    r = await api(`token=${T}&content=event&format=json&returnFormat=json`);
    t.check(r.status === 200 && r.json.some((e) => e.unique_event_name === 'screening_arm_1' && e.arm_num === '1'), 'PyCap event', r.text.slice(0, 200));
    t.check(r.json.every((e, i) => e.event_id === String(i + 1)), 'event: REDCap\'s event_id on each event (REDCapR parses it)', r.text.slice(0, 200));
    r = await api(`token=${T}&content=arm&format=json&returnFormat=json`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '[{"arm_num":"1","name":"Arm 1"}]', 'PyCap arm: the one arm of events.csv', r.text);
    r = await api(`token=${T}&content=version`); // PyCap's export_version: no format
    t.check(r.status === 200 && /^\d+\.\d+\.\d+$/.test(r.text.trim()), 'PyCap version (no format): a semantic version', r.text);
    // PyCap export_records(records=[rec], fields=[...]) (requests: booleans as "False")
    r = await api(`token=${T}&content=record&format=json&returnFormat=json&type=flat&rawOrLabel=raw&records%5B0%5D=${rec}` +
        `&fields%5B0%5D=record_id&fields%5B1%5D=age&fields%5B2%5D=sex&exportSurveyFields=False&exportDataAccessGroups=False&exportCheckboxLabel=False`);
    t.check(r.status === 200 && Array.isArray(r.json) && r.json.length >= 1, 'PyCap export_records: 200, rows', r.text.slice(0, 300));
    let scr = (r.json || []).find((x) => x.redcap_event_name === 'screening_arm_1');
    t.check(scr && scr.record_id === rec && scr.age === ELIGIBLE.age && scr.sex === ELIGIBLE.sex,
        'the screening row carries the values typed (age, sex)', JSON.stringify(scr));
    t.check(scr && Object.keys(scr).join() === 'record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,age,sex',
        'fields[] keeps the ID, REDCap\'s event/repeat columns and the fields asked for', scr && Object.keys(scr).join());

    // --- REDCapR (redcap_read: metadata, then the IDs, then the batch; fields=a,b; "false") ---
    r = await api(`token=${T}&content=metadata&format=csv&returnFormat=csv`);
    t.check(r.status === 200 && JSON.stringify(pycsv(r.text)) === JSON.stringify(dictRows), 'REDCapR metadata as CSV equals dictionary.csv (python csv)');
    r = await api(`token=${T}&content=record&format=csv&type=flat&rawOrLabel=raw&rawOrLabelHeaders=raw&exportCheckboxLabel=false` +
        `&exportSurveyFields=false&exportDataAccessGroups=false&filterLogic=&fields=record_id`);
    let rows = pycsv(r.text);
    t.check(r.status === 200 && rows.length >= 1 && rows.every((x) => x.record_id === rec) && Object.keys(rows[0]).length === 4,
        'REDCapR ID read: fields=record_id (comma list), empty filterLogic is no filter', r.text.slice(0, 300));
    r = await api(`token=${T}&content=record&format=csv&type=flat&rawOrLabel=raw&rawOrLabelHeaders=raw&exportCheckboxLabel=false` +
        `&exportSurveyFields=false&exportDataAccessGroups=false&filterLogic=&records=${rec}&fields=record_id,age,qual_cat1&forms=`);
    rows = pycsv(r.text);
    scr = rows.find((x) => x.redcap_event_name === 'screening_arm_1');
    t.check(scr && scr.age === '45' && scr.qual_cat1___1 === '1' && !('sex' in scr), 'REDCapR batch: fields=a,b,c with a checkbox as its options', r.text.slice(0, 300));
    r = await api(`token=${T}&content=exportFieldNames&format=csv`);
    t.check(r.status === 200 && /^original_field_name,choice_value,export_field_name\n/.test(r.text), 'REDCapR redcap_variables: CSV header', r.text.slice(0, 80));

    // --- redcapAPI (exportMetaData, exportInstruments, exportMappings, exportRecords by form) ---
    r = await api(`token=${T}&content=instrument&format=csv&returnFormat=csv`);
    const forms = pycsv(r.text).map((x) => x.instrument_name);
    t.check(JSON.stringify(forms) === JSON.stringify([...new Set(dictRows.map((d) => d.form_name))]), 'redcapAPI instruments: every form, in dictionary order', forms.join());
    r = await api(`token=${T}&content=formEventMapping&format=csv&returnFormat=csv&arms%5B0%5D=1`);
    t.check(r.status === 200 && /^arm_num,unique_event_name,form\n/.test(r.text), 'redcapAPI formEventMapping', r.text.slice(0, 80));
    r = await api(`token=${T}&content=repeatingFormsEvents&format=json&returnFormat=json`);
    t.check(r.status === 200 && Array.isArray(r.json) && r.json.length > 0, 'redcapAPI repeatingFormsEvents', r.text.slice(0, 200));
    r = await api(`token=${T}&content=project&format=json&returnFormat=json`);
    t.check(r.status === 200 && r.json.is_longitudinal === 1 && r.json.has_repeating_instruments_or_events === 1, 'redcapAPI project info', r.text);
    // the title is the protocol's (study.csv's title row)
    const title = pycsv(fs.readFileSync(path.join(SRC, 'protocols/io-heme/study.csv'), 'utf8')).find((x) => x.key === 'title').value;
    t.check(r.json.project_title === title, `project_title is study.csv's title ("${title}")`, r.json.project_title);
    r = await api(`token=${T}&content=record&format=csv&returnFormat=csv&type=flat&forms%5B0%5D=consent&events%5B0%5D=screening_arm_1`);
    rows = pycsv(r.text);
    t.check(rows.length === 1 && rows[0].cons_type === '1' && 'consent_complete' in rows[0] && !('age' in rows[0]),
        'redcapAPI forms[0]=consent&events[0]=screening_arm_1: that form\'s columns and status, that event', r.text.slice(0, 300));

    // rawOrLabel=label: labels from dictionary.csv (python csv) for a radio and a checkbox
    r = await api(`token=${T}&content=record&format=csv&rawOrLabel=label&records%5B0%5D=${rec}&fields%5B0%5D=sex&fields%5B1%5D=qual_cat1&forms%5B0%5D=consent&forms%5B1%5D=screening`);
    rows = pycsv(r.text);
    // events by their labels (events.csv, python csv), as REDCap's labelled export names them
    const evLabels = Object.fromEntries(pycsv(fs.readFileSync(path.join(SRC, 'protocols/io-heme/events.csv'), 'utf8'))
        .map((e) => [e.unique_event_name, e.custom_event_label || e.event_name]));
    scr = rows.find((x) => x.redcap_event_name === evLabels.screening_arm_1);
    t.check(rows.length > 0 && rows.every((x) => Object.values(evLabels).includes(x.redcap_event_name)),
        `rawOrLabel=label: redcap_event_name as the event's label ("${evLabels.screening_arm_1}")`, r.text.slice(0, 300));
    const sexChoices = Object.fromEntries(dictRows.find((d) => d.field_name === 'sex').select_choices_or_calculations
        .split('|').map((c) => { const i = c.indexOf(','); return [c.slice(0, i).trim(), c.slice(i + 1).trim()]; }));
    t.check(scr && scr.sex === sexChoices[ELIGIBLE.sex] && scr.qual_cat1___1 === 'Checked' && scr.qual_cat1___2 === 'Unchecked',
        `rawOrLabel=label: sex as "${sexChoices[ELIGIBLE.sex]}", options Checked/Unchecked`, r.text.slice(0, 400));
    // REDCap reads the word in either case
    const upper = await api(`token=${T}&content=record&format=csv&rawOrLabel=LABEL&records%5B0%5D=${rec}&fields%5B0%5D=sex&fields%5B1%5D=qual_cat1&forms%5B0%5D=consent&forms%5B1%5D=screening`);
    t.check(upper.status === 200 && upper.text === r.text, 'rawOrLabel=LABEL as rawOrLabel=label', upper.text.slice(0, 200));
    const rawRows = pycsv((await api(`token=${T}&content=record&format=csv&records%5B0%5D=${rec}&forms%5B0%5D=consent&forms%5B1%5D=screening`)).text);
    const rawScr = rawRows.find((x) => x.redcap_event_name === 'screening_arm_1');
    const words = { '': '', 0: 'Incomplete', 1: 'Unverified', 2: 'Complete' };
    t.check(scr && rawScr && rawScr.screening_complete !== '' && scr.screening_complete === words[rawScr.screening_complete] &&
            scr.consent_complete === words[rawScr.consent_complete],
        `rawOrLabel=label: form statuses in words (raw "${rawScr && rawScr.screening_complete}")`, scr && scr.screening_complete);

    // type=eav: one row per non-empty cell; a checked option as field = its code
    r = await api(`token=${T}&content=record&format=json&type=eav&records%5B0%5D=${rec}&fields%5B0%5D=age&fields%5B1%5D=qual_cat1`);
    const eavRows = r.json || [];
    t.check(r.status === 200 && eavRows.some((x) => x.record === rec && x.redcap_event_name === 'screening_arm_1' && x.field_name === 'age' && x.value === '45'),
        'type=eav: age 45 at screening', r.text.slice(0, 300));
    t.check(eavRows.some((x) => x.field_name === 'qual_cat1' && x.value === '1') && !eavRows.some((x) => /___/.test(x.field_name)),
        'type=eav: the checked option of qual_cat1 as value 1, no field___code rows', r.text.slice(0, 300));
    t.check(eavRows.some((x) => x.field_name === 'record_id' && x.value === rec && x.redcap_event_name === 'screening_arm_1'),
        'type=eav: the record ID as a value of its own (REDCapR takes record_id from it)', r.text.slice(0, 300));
    r = await api(`token=${T}&content=record&format=json&type=eav&rawOrLabel=label&records%5B0%5D=${rec}&fields%5B0%5D=qual_cat1`);
    const qLabel = dictRows.find((d) => d.field_name === 'qual_cat1').select_choices_or_calculations.split('|')
        .map((c) => c.trim()).find((c) => c.startsWith('1,')).slice(2).trim();
    t.check(r.status === 200 && (r.json || []).some((x) => x.field_name === 'qual_cat1' && x.value === qLabel),
        `type=eav&rawOrLabel=label: the ticked option of qual_cat1 as its label (${qLabel})`, r.text.slice(0, 300));

    // --- PHPCap (http_build_query) ---
    r = await api(`token=${T}&content=record&format=json&returnFormat=json&type=flat&rawOrLabel=raw&rawOrLabelHeaders=raw` +
        `&exportCheckboxLabel=false&exportSurveyFields=false&exportDataAccessGroups=false&records%5B0%5D=NOPE-9`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '[]', 'PHPCap exportRecords of an unknown record: []', r.text);

    // --- user and log export (user_manage, audit_read) ---
    const TA = await token('admin');
    r = await api(`token=${TA}&content=user&format=json&returnFormat=json`);
    const users = r.json || [];
    t.check(r.status === 200 && users.length === 6, 'user export: the six users', r.text.slice(0, 200));
    const dmRow = users.find((u) => u.username === 'data_manager'), coRow = users.find((u) => u.username === 'coordinator');
    t.check(dmRow && dmRow.data_export === '1' && dmRow.api_import === '0' && coRow && coRow.data_export === '0' && coRow.api_import === '1' && coRow.user_rights === '0',
        'user export: REDCap rights from the role (data_manager exports, coordinator enters)', JSON.stringify([dmRow, coRow]));
    const formNames = [...new Set(dictRows.map((d) => d.form_name))];
    // JSON: forms and forms_export are objects, as REDCap's API documents them
    const rights = (v) => Object.fromEntries(formNames.map((f) => [f, v]));
    t.check(coRow && JSON.stringify(coRow.forms) === JSON.stringify(rights('1')) &&
            JSON.stringify(coRow.forms_export) === JSON.stringify(rights('0')) &&
            JSON.stringify(dmRow.forms_export) === JSON.stringify(rights('1')),
        'user export (JSON): forms and forms_export as REDCap\'s {"form": "right"} objects', JSON.stringify([coRow && coRow.forms, dmRow && dmRow.forms_export]).slice(0, 300));
    // CSV: REDCap's "form:right,…" lists (REDCapR reads forms)
    r = await api(`token=${TA}&content=user&format=csv`);
    const coCsv = pycsv(r.text).find((u) => u.username === 'coordinator');
    t.check(r.status === 200 && coCsv && coCsv.forms === formNames.map((f) => `${f}:1`).join() &&
            coCsv.forms_export === formNames.map((f) => `${f}:0`).join(),
        'user export (CSV): forms and forms_export as "form:right" lists', r.text.slice(0, 300));
    r = await api(`token=${T}&content=user&format=json`);
    t.check(r.status === 403, 'user export as data_manager (no user_manage): 403', r.text);
    r = await api(`token=${T}&content=log&format=json&record=${rec}`);
    const log = r.json || [];
    t.check(r.status === 200 && log.length > 0 && log.every((l) => l.record === rec || l.record === 'SCR-001'), 'log export filtered by record (its study ID, or its screening number before enrolment)', r.text.slice(0, 200));
    t.check(log.some((l) => l.username === 'coordinator' && l.details === "age = '45'"), 'the log shows the coordinator typing age 45', r.text.slice(0, 400));
    t.check(log.every((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(l.timestamp)), 'log timestamps as REDCap writes them (YYYY-MM-DD HH:MM)');
    r = await api(`token=${T}&content=log&format=csv&beginTime=2999-01-01%2000:00`);
    t.check(r.status === 200 && pycsv(r.text).length === 0, 'log export: beginTime in the future: no rows', r.text.slice(0, 200));
    // beginTime with seconds (PyCap, PHPCap) keeps the rows of its own minute; an endTime to
    // the minute keeps that whole minute (timestamps are shown to the minute)
    const m0 = log[0].timestamp;
    r = await api(`token=${T}&content=log&format=json&record=${rec}&beginTime=${enc(m0 + ':00')}`);
    t.check(r.status === 200 && r.json.length === log.filter((l) => l.timestamp >= m0).length && r.json.some((l) => l.timestamp === m0),
        `log beginTime=${m0}:00 keeps the rows of ${m0}`, r.text.slice(0, 200));
    r = await api(`token=${T}&content=log&format=json&record=${rec}&endTime=${enc(m0)}`);
    t.check(r.status === 200 && r.json.length === log.filter((l) => l.timestamp <= m0).length && r.json.length > 0,
        `log endTime=${m0} keeps that whole minute`, r.text.slice(0, 200));
    r = await api(`token=${T}&content=log&format=json&beginTime=yesterday`);
    t.check(r.status === 400 && /beginTime/.test(r.json && r.json.error), 'log beginTime=yesterday: 400 naming it', r.text);
    r = await api(`token=${TC}&content=log&format=json`);
    t.check(r.status === 403, 'log export as coordinator (no audit_read): 403', r.text);

    // --- record import, in the clients' shapes, through the write path (all rows or none) ---
    const sq = (statement) => sql(db, statement).stdout.trim();
    const TCR = await redcapToken('coordinator');
    // PyCap import_records(df/json): content, format, type, overwriteBehavior, returnContent,
    // returnFormat, data, dateFormat, forceAutoNumber=False
    const imp = [{ record_id: rec, redcap_event_name: 'baseline_arm_1', bl_hr: '88', bl_rr: '' }];
    r = await api(`token=${TCR}&content=record&format=json&type=flat&overwriteBehavior=normal&returnContent=count&returnFormat=json&data=${enc(JSON.stringify(imp))}&dateFormat=YMD&forceAutoNumber=False`);
    t.check(r.status === 200 && r.json && r.json.count === 1, 'PyCap import (json, returnContent=count): {"count": 1}', r.text);
    t.check(sq(`SELECT value FROM value WHERE field = 'bl_hr'`) === '88', 'the imported value is stored', sq(`SELECT value FROM value WHERE field = 'bl_hr'`));
    t.check(sq(`SELECT count(*) FROM value WHERE field = 'bl_rr'`) === '0', 'a blank cell changes nothing (overwriteBehavior=normal)');
    t.check(sq(`SELECT count(*) FROM audit WHERE field = 'bl_hr' AND source = 'import' AND "user" = 'coordinator' AND length(source_sha256) = 64`) === '1',
        'audited as an import by the token\'s user, with the data\'s SHA-256');
    // REDCapR redcap_write_oneshot: CSV data, returnContent=ids, returnFormat=csv
    r = await api(`token=${TCR}&content=record&format=csv&type=flat&overwriteBehavior=normal&returnContent=ids&returnFormat=csv&data=${enc(`record_id,redcap_event_name,bl_temp\n${rec},baseline_arm_1,37.5\n`)}`);
    t.check(r.status === 200 && /text\/csv/.test(r.type) && JSON.stringify(pycsv(r.text)) === JSON.stringify([{ id: rec }]),
        'REDCapR import (csv, returnContent=ids): the id column', r.text);
    t.check(sq(`SELECT value FROM value WHERE field = 'bl_temp'`) === '37.5', 'the CSV value is stored');
    // a bad value refuses the whole import, naming row, field and rule; nothing is saved
    const bad = [{ record_id: rec, redcap_event_name: 'baseline_arm_1', bl_temp: '36.6' },
                 { record_id: rec, redcap_event_name: 'baseline_arm_1', bl_hr: 'fast' }];
    r = await api(`token=${TCR}&content=record&format=json&type=flat&data=${enc(JSON.stringify(bad))}`);
    t.check(r.status === 400 && /row 2, record IOH-001, field bl_hr/.test(r.json.error) && /nothing was imported/.test(r.json.error),
        'a value that breaks a rule: 400 naming row, record and field', r.text);
    t.check(sq(`SELECT value FROM value WHERE field = 'bl_temp'`) === '37.5', '… and the good row of that import is not saved either');
    r = await api(`token=${TCR}&content=record&format=json&data=${enc(JSON.stringify([{ record_id: 'IOH-999', redcap_event_name: 'baseline_arm_1', bl_hr: '70' }]))}`);
    t.check(r.status === 400 && /IOH-999/.test(r.json.error), 'a record this project cannot create by import (it screens for eligibility): 400', r.text);
    // overwriteBehavior=overwrite (PyCap import_records(overwrite='overwrite')): a blank cell of a
    // field at the row's event clears it (bl_temp), a blank of a field another event collects
    // (hd_hr) and a blank form status change nothing, the other cells are written
    const ow = [{ record_id: rec, redcap_event_name: 'baseline_arm_1', bl_temp: '', bl_hr: '91', hd_hr: '', baseline_complete: '' }];
    r = await api(`token=${TCR}&content=record&format=json&overwriteBehavior=overwrite&data=${enc(JSON.stringify(ow))}`);
    t.check(r.status === 200 && r.json.count === 1, 'overwriteBehavior=overwrite: imported', r.text);
    t.check(sq(`SELECT count(*) FROM value WHERE field = 'bl_temp'`) === '0' && sq(`SELECT value FROM value WHERE field = 'bl_hr'`) === '91',
        '… the blank bl_temp is cleared, bl_hr written', sq(`SELECT field || '=' || value FROM value WHERE field IN ('bl_temp', 'bl_hr')`));
    t.check(sq(`SELECT count(*) FROM audit WHERE field = 'bl_temp' AND old_value = '37.5' AND coalesce(new_value, '') = '' AND source = 'import'`) === '1',
        '… and the clearing is in the audit trail as an import');
    r = await api(`token=${TCR}&content=record&format=json&overwriteBehavior=sometimes&data=${enc(JSON.stringify(imp))}`);
    t.check(r.status === 400 && /overwriteBehavior/.test(r.json.error), 'overwriteBehavior=sometimes: 400 naming it', r.text);
    // dateFormat=MDY / DMY (REDCapR's and PyCap's date_format): M/D/YYYY and D/M/YYYY, stored ISO
    r = await api(`token=${TCR}&content=record&format=csv&dateFormat=MDY&data=${enc(`record_id,redcap_event_name,bl_dx_date,bl_dt\n${rec},baseline_arm_1,3/7/2024,3/7/2024 14:05\n`)}`);
    t.check(r.status === 200 && sq(`SELECT value FROM value WHERE field = 'bl_dx_date'`) === '2024-03-07' &&
        sq(`SELECT value FROM value WHERE field = 'bl_dt'`) === '2024-03-07 14:05', 'dateFormat=MDY: 3/7/2024 is 7 March', r.text);
    r = await api(`token=${TCR}&content=record&format=csv&dateFormat=DMY&data=${enc(`record_id,redcap_event_name,bl_dx_date\n${rec},baseline_arm_1,3/7/2024\n`)}`);
    t.check(r.status === 200 && sq(`SELECT value FROM value WHERE field = 'bl_dx_date'`) === '2024-07-03', 'dateFormat=DMY: 3/7/2024 is 3 July', r.text);
    r = await api(`token=${TCR}&content=record&format=csv&dateFormat=DMY&data=${enc(`record_id,redcap_event_name,bl_dx_date,bl_hr\n${rec},baseline_arm_1,2024-07-04,92\n`)}`);
    t.check(r.status === 400 && /bl_dx_date/.test(r.json.error) && /D\/M\/YYYY/.test(r.json.error) &&
        sq(`SELECT value FROM value WHERE field = 'bl_hr'`) === '91', 'dateFormat=DMY with an ISO date: 400 naming the field, nothing saved', r.text);
    r = await api(`token=${TCR}&content=record&format=csv&dateFormat=YDM&data=${enc(`record_id\n${rec}\n`)}`);
    t.check(r.status === 400 && /dateFormat/.test(r.json.error), 'dateFormat=YDM: 400 naming it', r.text);
    // format=xml (REDCap's default format): <records> of <item>s, as the record export writes them
    r = await api(`token=${TCR}&content=record&format=xml&returnContent=ids&data=${enc(`<?xml version="1.0" encoding="UTF-8" ?><records><item><record_id>${rec}</record_id><redcap_event_name>baseline_arm_1</redcap_event_name><bl_hr><![CDATA[93]]></bl_hr><bl_rr>21</bl_rr></item></records>`)}`);
    t.check(r.status === 200 && /text\/xml/.test(r.type) && /^<\?xml[^>]*>\s*<ids><id><!\[CDATA\[IOH-001\]\]><\/id><\/ids>/.test(r.text) &&
        sq(`SELECT value FROM value WHERE field = 'bl_hr'`) === '93' && sq(`SELECT value FROM value WHERE field = 'bl_rr'`) === '21',
        'XML import: values stored, <ids> answered', r.text);
    r = await api(`token=${TCR}&content=record&format=xml&data=${enc(`<records><item><record_id>${rec}</record_id><bl_hr>94</bl_hr>`)}`);
    t.check(r.status === 400 && /not well-formed XML/.test(r.json.error) && sq(`SELECT value FROM value WHERE field = 'bl_hr'`) === '93',
        'XML that does not parse: 400, nothing saved', r.text);
    // type=eav: one value a row; a checkbox's value is the code of the option it ticks
    const eav = [{ record: rec, redcap_event_name: 'baseline_arm_1', field_name: 'bl_hr', value: '95' },
                 { record: rec, redcap_event_name: 'baseline_arm_1', field_name: 'bl_immuno', value: '2' }];
    r = await api(`token=${TCR}&content=record&format=json&type=eav&data=${enc(JSON.stringify(eav))}`);
    t.check(r.status === 200 && r.json.count === 1 && sq(`SELECT value FROM value WHERE field = 'bl_hr'`) === '95' &&
        sq(`SELECT value FROM value WHERE field = 'bl_immuno' AND code = '2'`) === '1', 'EAV import: the value and the ticked option stored', r.text);
    r = await api(`token=${T}&content=record&format=json&type=eav&records=${rec}&fields=bl_immuno`);
    t.check(r.status === 200 && r.json.some((x) => x.field_name === 'bl_immuno' && x.value === '2'), '… and read back by the EAV export as it was sent', r.text);
    r = await api(`token=${TCR}&content=record&format=json&type=eav&data=${enc(JSON.stringify([{ record: rec, redcap_event_name: 'baseline_arm_1', value: '96' }]))}`);
    t.check(r.status === 400 && /field_name/.test(r.json.error), 'EAV row without field_name: 400 naming it', r.text);
    r = await api(`token=${TCR}&content=record&format=json&type=eav&data=${enc(JSON.stringify([{ record: rec, redcap_event_name: 'baseline_arm_1', field_name: 'bl_immuno', value: '9'.repeat(300) }]))}`);
    t.check(r.status === 400 && /bl_immuno/.test(r.json.error) && /option code/.test(r.json.error), 'EAV checkbox value longer than any code: 400 naming the field', r.text);
    r = await api(`token=${TCR}&content=record&format=json&type=eav&data=${enc(JSON.stringify([{ record: rec, redcap_event_name: 'baseline_arm_1', field_name: 'bl_immuno', value: '7' }]))}`);
    t.check(r.status === 400 && /bl_immuno/.test(r.json.error), 'EAV checkbox value that is no code of the field: 400 naming it', r.text);
    r = await api(`token=${TCR}&content=record&format=json&forceAutoNumber=True&data=${enc(JSON.stringify(imp))}`);
    t.check(r.status === 400 && /created by screening/.test(r.json.error) && sq(`SELECT count(*) FROM record`) === '1',
        'forceAutoNumber=True (PyCap\'s spelling) where records come from screening: 400 saying so, no record made', r.text);
    r = await api(`token=${T}&content=project&format=json`);
    t.check(r.status === 200 && String(r.json.record_autonumbering_enabled) === '0', '… and the project says record_autonumbering_enabled 0', r.text);
    r = await api(`token=${T}&content=generateNextRecordName`);
    t.check(r.status === 400 && /screening/.test(r.json.error), '… generateNextRecordName: 400 saying why', r.text);
    r = await api(`token=${TCR}&content=record&format=json&data=${enc('[{"record_id": ')}`);
    t.check(r.status === 400 && typeof r.json.error === 'string', 'data that does not parse: 400', r.text);
    r = await api(`token=${await token('statistician')}&content=record&format=json&data=${enc(JSON.stringify(imp))}`);
    t.check(r.status === 403, 'a statistician (no data_write) may not import: 403', r.text);

    // --- what PyCap, PHPCap and redcapAPI themselves found (run against this server) ---
    // PyCap's export_records() lists every field and every <form>_complete in fields[]
    r = await api(`token=${T}&content=record&format=json&records%5B0%5D=${rec}&fields%5B0%5D=record_id&fields%5B1%5D=age&fields%5B2%5D=screening_complete`);
    scr = (r.json || []).find((x) => x.redcap_event_name === 'screening_arm_1');
    t.check(r.status === 200 && scr && scr.age === '45' && 'screening_complete' in scr && !('consent_complete' in scr),
        'fields[]=…_complete: that form\'s status column (PyCap lists the statuses with the fields)', r.text.slice(0, 300));
    // names a project does not have: REDCap's 400 naming them, never a silent empty answer
    for (const [q, bad] of [['fields%5B0%5D=age&fields%5B1%5D=nosuch&fields%5B2%5D=nope', /"fields" are not valid: 'nosuch', 'nope'/],
        ['forms%5B0%5D=nosuchform', /"forms" are not valid: 'nosuchform'/], ['events%5B0%5D=nosuch_arm_1', /"events" are not valid: 'nosuch_arm_1'/]]) {
        r = await api(`token=${T}&content=record&format=json&${q}`);
        t.check(r.status === 400 && bad.test(r.json && r.json.error), `record export ${decodeURIComponent(q)}: 400 naming it`, r.text);
    }
    r = await api(`token=${T}&content=metadata&format=json&fields%5B0%5D=nosuch`);
    t.check(r.status === 400 && /nosuch/.test(r.json && r.json.error), 'metadata fields[0]=nosuch: 400 naming it', r.text);
    // errors in returnFormat, else in format, else xml (REDCap's rule; PyCap sends no returnFormat on exports)
    r = await api(`token=${T}&content=record&format=csv&filterLogic=${enc('[nosuch] = 1')}`);
    t.check(r.status === 400 && r.errShape === 'csv' && /nosuch/.test(r.json.error), 'format=csv without returnFormat: the error as CSV (ERROR: …)', r.text);
    r = await api(`token=${T}&content=record&format=xml&filterLogic=${enc('[nosuch] = 1')}`);
    t.check(r.status === 400 && r.errShape === 'xml', 'format=xml without returnFormat: the error as <hash><error>', r.text);
    r = await api(`token=${T}&content=record&format=csv&returnFormat=json&filterLogic=${enc('[nosuch] = 1')}`);
    t.check(r.status === 400 && r.errShape === 'json', 'returnFormat=json over format=csv', r.text);
    r = await api(`token=0123456789ABCDEF0123456789ABCDEF&content=version`);
    t.check(r.status === 403 && r.errShape === 'xml', 'no format, no returnFormat (PyCap\'s version call): a refusal as xml', r.text);
    // an import answers in returnFormat: PyCap imports CSV (and DataFrames) with returnFormat=json
    r = await api(`token=${TCR}&content=record&format=csv&returnFormat=json&returnContent=count&data=${enc(`record_id,redcap_event_name,bl_temp\n${rec},baseline_arm_1,37.6\n`)}`);
    t.check(r.status === 200 && r.json && r.json.count === 1 && sq(`SELECT value FROM value WHERE field = 'bl_temp'`) === '37.6',
        'CSV import with returnFormat=json: {"count": 1}', r.text);
    r = await api(`token=${TCR}&content=record&format=json&returnFormat=csv&returnContent=ids&data=${enc(JSON.stringify([{ record_id: rec, redcap_event_name: 'baseline_arm_1', bl_temp: '37.7' }]))}`);
    t.check(r.status === 200 && r.text === `id\n${rec}\n`, 'JSON import with returnFormat=csv: the ids as CSV', r.text);
    // an import of anything but records is refused, never answered as an export (PyCap's
    // import_metadata sends data= without action)
    r = await api(`token=${TA}&content=metadata&format=json&data=${enc('[{"field_name":"x"}]')}`);
    t.check(r.status === 400 && /content=metadata cannot be imported/.test(r.json && r.json.error), 'metadata with data= (an import): 400', r.text);
    r = await api(`token=${TA}&content=user&format=json&data=${enc('[{"username":"x"}]')}`);
    t.check(r.status === 400 && /content=user/.test(r.json && r.json.error), 'user with data=: 400', r.text);
    // filterLogic on a repeating form's row: a field of another form at that event reads the
    // record's own row there (REDCap keeps the instances of the record the logic selects)
    r = await api(`token=${TCR}&content=record&format=json&returnFormat=json&data=${enc(JSON.stringify([
        { record_id: rec, redcap_event_name: 't24h_arm_1', hd_status: '1', hd_hr: '88' },
        { record_id: rec, redcap_event_name: 't24h_arm_1', redcap_repeat_instrument: 'complication', redcap_repeat_instance: '1', comp_type: '1' }]))}`);
    t.check(r.status === 200, 'a t24h heart rate and a complication instance imported', r.text);
    // redcap_repeat_instance "new" (REDCap 13.1+; PHPCap's and PyCap's users send it): the next
    // instances, one after another within the import
    r = await api(`token=${TCR}&content=record&format=json&returnFormat=json&data=${enc(JSON.stringify([
        { record_id: rec, redcap_event_name: 't24h_arm_1', redcap_repeat_instrument: 'complication', redcap_repeat_instance: 'new', comp_type: '2' },
        { record_id: rec, redcap_event_name: 't24h_arm_1', redcap_repeat_instrument: 'complication', redcap_repeat_instance: 'new', comp_type: '3' }]))}`);
    t.check(r.status === 200 && sql(db, `SELECT instance || '=' || value FROM value WHERE field = 'comp_type' AND event = 't24h_arm_1' ORDER BY instance`).stdout.trim().split('\n').join() === '1=1,2=2,3=3',
        'redcap_repeat_instance=new twice after instance 1: instances 2 and 3', r.text);
    r = await api(`token=${TCR}&content=record&format=json&returnFormat=json&data=${enc(JSON.stringify([
        { record_id: rec, redcap_event_name: 't24h_arm_1', redcap_repeat_instance: 'new', comp_type: '4' }]))}`);
    t.check(r.status === 400 && /'new' needs the repeating form in redcap_repeat_instrument/.test(r.json && r.json.error), 'redcap_repeat_instance=new without an instrument: 400 saying so', r.text);
    r = await api(`token=${TCR}&content=record&format=json&type=eav&returnFormat=json&data=${enc(JSON.stringify([
        { record: rec, redcap_event_name: 't24h_arm_1', redcap_repeat_instrument: 'complication', redcap_repeat_instance: 'new', field_name: 'comp_type', value: '4' }]))}`);
    t.check(r.status === 400 && /'new' is for flat rows/.test(r.json && r.json.error), 'redcap_repeat_instance=new in an EAV row: 400 saying why', r.text);
    r = await api(`token=${T}&content=record&format=json&events%5B0%5D=t24h_arm_1&fields%5B0%5D=record_id&fields%5B1%5D=hd_hr&fields%5B2%5D=comp_type&filterLogic=${enc('[hd_hr] = 88')}`);
    rows = r.json || [];
    t.check(r.status === 200 && rows.some((x) => x.redcap_repeat_instrument === 'complication' && x.comp_type === '1') &&
            rows.some((x) => x.redcap_repeat_instrument === '' && x.hd_hr === '88'),
        'filterLogic [hd_hr] = 88 keeps the record\'s complication instance at t24h too', r.text.slice(0, 400));
    // the repeating form by its label, as REDCap's labelled export has it
    r = await api(`token=${T}&content=instrument&format=json`);
    const compLabel = (r.json || []).find((x) => x.instrument_name === 'complication').instrument_label;
    r = await api(`token=${T}&content=record&format=json&rawOrLabel=label&events%5B0%5D=t24h_arm_1&fields%5B0%5D=record_id&fields%5B1%5D=comp_type`);
    t.check(r.status === 200 && compLabel && r.json.some((x) => x.redcap_repeat_instrument === compLabel) && !r.json.some((x) => x.redcap_repeat_instrument === 'complication'),
        `rawOrLabel=label: redcap_repeat_instrument as the form's label ("${compLabel}")`, r.text.slice(0, 300));
    r = await api(`token=${T}&content=record&format=json&fields%5B0%5D=record_id&filterLogic=${enc("[event-name] = 't24h_arm_1'")}`);
    t.check(r.status === 200 && r.json.length > 0 && r.json.every((x) => x.redcap_event_name === 't24h_arm_1'),
        "filterLogic [event-name] = 't24h_arm_1': a smart variable, the rows of that event", r.text.slice(0, 300));
    // a body of megabytes (an import of a few thousand records) is taken; past 32 MiB REDCap's
    // shape of a refusal, not ioheme's own (PHPCap read that as a successful import)
    const bigData = JSON.stringify([{ record_id: rec, redcap_event_name: 'baseline_arm_1', bl_temp: '37.9' }]) + ' '.repeat(3 << 20);
    r = await api(`token=${TCR}&content=record&format=json&returnFormat=json&data=${enc(bigData)}`);
    t.check(r.status === 200 && r.json && r.json.count === 1 && sq(`SELECT value FROM value WHERE field = 'bl_temp'`) === '37.9',
        'an import of 3 MiB (past the old 1 MiB cap): taken', r.text.slice(0, 200));
    // (headers alone, announcing 33 MiB: the server answers before any body byte, and a client
    // still sending would see its socket closed)
    const raw = await new Promise((resolve, reject) => {
        const u = new URL(B);
        const sock = net.connect(Number(u.port), u.hostname, () => sock.write(
            `POST /api/ HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
            `Content-Length: ${33 << 20}\r\nConnection: close\r\n\r\n`));
        let got = '';
        sock.on('data', (d) => { got += d; });
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
        sock.setTimeout(10000, () => sock.destroy(new Error('no answer to a 33 MiB announcement')));
    });
    const rawBody = raw.split('\r\n\r\n').slice(1).join('\r\n\r\n');
    t.check(/^HTTP\/1\.1 413/.test(raw) && /<hash><error><!\[CDATA\[[^\]]*larger/.test(rawBody),
        'a body over 32 MiB: 413 in REDCap\'s error shape (xml: no format was read)', raw.slice(0, 400));
    // --- redcapAPI: httr sends every call as multipart/form-data ---
    r = await apiMultipart([['token', T], ['content', 'version'], ['format', 'csv']]);
    t.check(r.status === 200 && /^\d+\.\d+\.\d+$/.test(r.text.trim()), 'redcapAPI connect (multipart): content=version', r.text);
    r = await apiMultipart([['token', T], ['content', 'metadata'], ['format', 'csv'], ['returnFormat', 'csv'], ['fields[1]', 'age'], ['fields[2]', 'sex']]);
    const mpMeta = r.status === 200 ? pycsv(r.text) : [];
    t.check(mpMeta.length === 2 && mpMeta[0].field_name === 'age' && JSON.stringify(mpMeta) === JSON.stringify(dictRows.filter((d) => ['age', 'sex'].includes(d.field_name))),
        'redcapAPI metadata (multipart, fields[1], fields[2]): those rows of dictionary.csv', r.text.slice(0, 200));
    r = await apiMultipart([['token', T], ['content', 'record'], ['format', 'csv'], ['returnFormat', 'csv'], ['type', 'flat'], ['records[1]', rec], ['fields[1]', 'record_id'], ['fields[2]', 'age']]);
    rows = r.status === 200 ? pycsv(r.text) : [];
    t.check(rows.some((x) => x.record_id === rec && x.age === '45'), 'redcapAPI record export (multipart)', r.text.slice(0, 200));
    r = await apiMultipart([['token', TCR], ['content', 'record'], ['format', 'csv'], ['returnFormat', 'csv'], ['type', 'flat'], ['overwriteBehavior', 'normal'],
        ['returnContent', 'count'], ['data', `record_id,redcap_event_name,bl_temp\n${rec},baseline_arm_1,37.8\n`]]);
    t.check(r.status === 200 && r.text === 'count\n1\n' && sq(`SELECT value FROM value WHERE field = 'bl_temp'`) === '37.8', 'redcapAPI import (multipart)', r.text);
    r = await fetch(B + '/api/', { method: 'POST', headers: { 'Content-Type': 'multipart/form-data; boundary=zz' },
        body: `--zz\r\nContent-Disposition: form-data; name="token"\r\n\r\n${T}` }).then(answer);
    t.check(r.status === 400 && /multipart/.test(r.json && r.json.error), 'a multipart body cut short: 400 saying so', r.text);

    // REDCapR's connect sequence ends with dag (csv): a project without data access groups
    r = await api(`token=${T}&content=dag&format=csv&returnFormat=csv`);
    t.check(r.status === 200 && r.text.trim() === 'data_access_group_name,unique_group_name,data_access_group_id', 'dag export: no groups, the header only', r.text);
    r = await api(`token=${T}&content=dag&format=json`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '[]', 'dag export (json): []', r.text);

    // --- format=xml (REDCap's default format), read by python's XML parser ---
    const pyxml = (text) => {
        const r = spawnSync('python3', ['-c',
            'import json,sys,xml.etree.ElementTree as ET; t=ET.fromstring(sys.stdin.read()); ' +
            'print(json.dumps({"root": t.tag, "items": [{c.tag: (c.text or "") for c in i} for i in t.findall("item")], ' +
            '"fields": {c.tag: (c.text or "") for c in t}}))'], { input: text, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(r.stderr);
        return JSON.parse(r.stdout);
    };
    r = await api(`token=${T}&content=metadata&format=xml`);
    let x = pyxml(r.text);
    t.check(r.status === 200 && /xml/.test(r.type) && x.root === 'records' && x.items.length === dictRows.length &&
        x.items.every((it, i) => it.field_name === dictRows[i].field_name && it.field_label === dictRows[i].field_label),
        'metadata as XML: one <item> per dictionary row, names and labels as dictionary.csv has them', r.text.slice(0, 200));
    r = await api(`token=${T}&content=metadata`);
    t.check(r.status === 200 && pyxml(r.text).items.length === dictRows.length, 'no format: XML, as REDCap defaults', r.text.slice(0, 120));
    const rj = await api(`token=${T}&content=record&format=json&records=${rec}`);
    r = await api(`token=${T}&content=record&format=xml&records=${rec}`);
    x = pyxml(r.text);
    t.check(r.status === 200 && JSON.stringify(x.items) === JSON.stringify(rj.json), 'records as XML: the same rows and values as JSON', r.text.slice(0, 200));
    // the XML export imported back as it is: every row placed, nothing refused
    const xmlExport = r.text;
    const before = sq(`SELECT count(*) FROM audit`);
    r = await api(`token=${TCR}&content=record&format=xml&returnContent=count&data=${enc(xmlExport)}`);
    t.check(r.status === 200 && /<count>1<\/count>/.test(r.text), 'the XML export imports back: <count>1</count>', r.text.slice(0, 300));
    t.check(sq(`SELECT count(*) FROM audit WHERE id > 0`) === before, '… changing nothing (no audit row added)', sq(`SELECT count(*) FROM audit`));
    r = await api(`token=${T}&content=project&format=xml`);
    x = pyxml(r.text);
    t.check(r.status === 200 && x.root === 'project' && x.fields.is_longitudinal === '1', 'project as one <project> element', r.text);
    r = await api(`token=${T}&content=nonsense&format=xml&returnFormat=xml`);
    x = pyxml(r.text);
    t.check(r.status === 400 && x.root === 'hash' && /not supported/.test(x.fields.error), 'returnFormat=xml: <hash><error>, with the status', r.text);
    r = await api(`token=${T}&content=nonsense&format=csv&returnFormat=csv`);
    t.check(r.status === 400 && /^ERROR: /.test(r.text), 'returnFormat=csv: ERROR: …', r.text);
    r = await api(`token=${TCR}&content=record&format=xml&data=${enc('<records/>')}`);
    t.check(r.status === 200 && /<count>0<\/count>/.test(r.text), 'an XML import of no records: <count>0</count>', r.text);
    r = await api(`token=${TCR}&content=record&format=xml&data=${enc('<odm><item/></odm>')}`);
    t.check(r.status === 400 && /<records>/.test(r.text), 'an XML import whose root is not <records>: 400 saying so', r.text);

    // --- the export options REDCap documents (each either applied or refused, never ignored) ---
    r = await api(`token=${TCR}&content=record&format=json&data=${enc(JSON.stringify([{ record_id: rec, redcap_event_name: 'baseline_arm_1', bl_temp: '37.5' }]))}`);
    t.check(r.status === 200 && r.json.count === 1, 'fixture: bl_temp 37.5 (number_1dp) imported', r.text);
    const temp = async (extra) => (await api(`token=${T}&content=record&format=json&fields=bl_temp&events=baseline_arm_1${extra}`)).json?.[0]?.bl_temp;
    t.check(await temp('&decimalCharacter=%2C') === '37,5' && await temp('&decimalCharacter=.') === '37.5' && await temp('') === '37.5',
        'decimalCharacter=, writes 37,5; . and none 37.5', await temp('&decimalCharacter=%2C'));
    r = await api(`token=${T}&content=record&format=json&decimalCharacter=comma`);
    t.check(r.status === 400 && /decimalCharacter/.test(r.json.error), 'decimalCharacter=comma: 400 naming it', r.text);
    // csvDelimiter, read back by python's csv module with that delimiter
    const pydelim = (text, d) => JSON.parse(spawnSync('python3', ['-c',
        `import csv,json,sys; print(json.dumps(list(csv.DictReader(sys.stdin, delimiter=${JSON.stringify(d)}))))`], { input: text, encoding: 'utf8' }).stdout);
    const comma = pycsv((await api(`token=${T}&content=record&format=csv&records=${rec}`)).text);
    for (const [param, d] of [['tab', '\t'], ['%3B', ';'], ['%7C', '|'], ['%5E', '^']]) {
        r = await api(`token=${T}&content=record&format=csv&records=${rec}&csvDelimiter=${param}`);
        t.check(r.status === 200 && !r.text.split('\n')[0].includes(',') && JSON.stringify(pydelim(r.text, d)) === JSON.stringify(comma),
            `csvDelimiter=${decodeURIComponent(param)}: the same rows, split by ${JSON.stringify(d)}`, r.text.slice(0, 200));
    }
    // … and on import: REDCap reads the data's cells with it
    r = await api(`token=${TCR}&content=record&format=csv&csvDelimiter=tab&data=${enc(`record_id\tredcap_event_name\tbl_temp\n${rec}\tbaseline_arm_1\t37.8\n`)}`);
    t.check(r.status === 200 && r.text.trim() === 'count\n1' && await temp('') === '37.8', 'a tab-delimited import with csvDelimiter=tab: bl_temp 37.8', r.text);
    r = await api(`token=${TCR}&content=record&format=csv&csvDelimiter=%3B&data=${enc(`record_id;redcap_event_name;bl_temp\n${rec};baseline_arm_1;37.5\n`)}`);
    t.check(r.status === 200 && await temp('') === '37.5', '… semicolons with csvDelimiter=; (37.5 again)', r.text);
    r = await api(`token=${TCR}&content=record&format=csv&data=${enc(`record_id;redcap_event_name;bl_temp\n${rec};baseline_arm_1;36.0\n`)}`);
    t.check(r.status === 400 && await temp('') === '37.5', '… the same file without csvDelimiter: refused, nothing changed', r.text);
    r = await api(`token=${T}&content=record&format=csv&csvDelimiter=%3A`);
    t.check(r.status === 400 && /csvDelimiter/.test(r.text), 'csvDelimiter=: (not REDCap\'s): 400', r.text);
    // exportCheckboxLabel with rawOrLabel=label: the ticked option's label, the others blank
    const cat1 = dictRows.find((x) => x.field_name === 'qual_cat1').select_choices_or_calculations.split('|')[0].replace(/^\s*1,\s*/, '').trim();
    r = await api(`token=${T}&content=record&format=json&records=${rec}&fields=qual_cat1&events=screening_arm_1&rawOrLabel=label&exportCheckboxLabel=true`);
    t.check(r.status === 200 && r.json[0].qual_cat1___1 === cat1 && r.json[0].qual_cat1___2 === '', 'exportCheckboxLabel=true: the ticked option\'s label, an unticked one blank', r.text.slice(0, 300));
    r = await api(`token=${T}&content=record&format=json&records=${rec}&fields=qual_cat1&events=screening_arm_1&rawOrLabel=label&exportCheckboxLabel=false`);
    t.check(r.status === 200 && r.json[0].qual_cat1___1 === 'Checked' && r.json[0].qual_cat1___2 === 'Unchecked', '… false: Checked / Unchecked', r.text.slice(0, 300));
    // rawOrLabelHeaders=label (flat CSV): the labels dictionary.csv gives
    r = await api(`token=${T}&content=record&format=csv&records=${rec}&fields=age,qual_cat1&rawOrLabelHeaders=label`);
    const head = spawnSync('python3', ['-c', 'import csv,json,sys; print(json.dumps(next(csv.reader(sys.stdin))))'], { input: r.text, encoding: 'utf8' });
    const hdr = JSON.parse(head.stdout);
    const ageLabel = dictRows.find((x) => x.field_name === 'age').field_label;
    t.check(r.status === 200 && hdr[1] === 'Event Name' && hdr.includes(ageLabel) && hdr.includes(`${dictRows.find((x) => x.field_name === 'qual_cat1').field_label} (choice=${cat1})`) &&
        !hdr.includes('age'), 'rawOrLabelHeaders=label: Event Name, the field\'s label, "Label (choice=Option)"', hdr);
    r = await api(`token=${T}&content=record&format=csv&rawOrLabelHeaders=names`);
    t.check(r.status === 400, 'rawOrLabelHeaders=names: 400', r.text);
    // dateRangeBegin / dateRangeEnd: records changed in the range (UTC), from the audit trail
    const utc = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    r = await api(`token=${T}&content=record&format=json&dateRangeBegin=${enc(utc(Date.now() + 3600e3))}`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '[]', 'dateRangeBegin an hour ahead: no record', r.text.slice(0, 200));
    r = await api(`token=${T}&content=record&format=json&dateRangeBegin=${enc(utc(Date.now() - 3600e3))}&dateRangeEnd=`);
    t.check(r.status === 200 && r.json.length > 0 && r.json.every((x) => x.record_id === rec), 'dateRangeBegin an hour ago (and a blank end, as REDCapR sends): the record changed since', r.text.slice(0, 200));
    r = await api(`token=${T}&content=record&format=json&dateRangeEnd=${enc('2001-01-01 00:00:00')}`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '[]', 'dateRangeEnd in 2001: no record', r.text.slice(0, 200));
    r = await api(`token=${T}&content=record&format=json&dateRangeBegin=${enc('yesterday')}`);
    t.check(r.status === 400 && /dateRangeBegin/.test(r.json.error), 'dateRangeBegin=yesterday: 400', r.text);
    // logtype on the log export
    r = await api(`token=${T}&content=log&format=json&logtype=record`);
    t.check(r.status === 200 && r.json.some((x) => x.action === `update ${rec}`) && r.json.every((x) => !/^(login|user_add|export)/.test(x.action)),
        'logtype=record: the record\'s changes, no sign-in, user or export rows', r.text.slice(0, 300));
    r = await api(`token=${T}&content=log&format=json&logtype=user`);
    t.check(r.status === 200 && r.json.some((x) => x.action === 'user_add') && r.json.every((x) => /^(user_|api_token|lockout|password)/.test(x.action)),
        'logtype=user: user rows only', r.text.slice(0, 300));
    r = await api(`token=${T}&content=log&format=json&logtype=everything`);
    t.check(r.status === 400 && /logtype/.test(r.json.error), 'an unknown logtype: 400 listing them', r.text);
    // arms on events and arms
    r = await api(`token=${T}&content=event&format=json&arms=1`);
    const allEvents = (await api(`token=${T}&content=event&format=json`)).json;
    t.check(r.status === 200 && r.json.length === allEvents.length && r.json.length > 0, 'arms=1: every event of arm 1', r.text.slice(0, 200));
    r = await api(`token=${T}&content=event&format=json&arms[0]=2`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '[]', 'arms[0]=2: none (one arm)', r.text.slice(0, 200));
    r = await api(`token=${T}&content=arm&format=json&arms=2`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '[]', 'arm export, arms=2: none', r.text);

    // --- errors as REDCap answers them ---
    r = await api(`content=version&format=json`);
    t.check(r.status === 401 && typeof r.json.error === 'string', 'no token: 401 {"error": "..."}', r.text);
    r = await api(`token=${'0'.repeat(64)}&content=record&format=json`);
    t.check(r.status === 403 && typeof r.json.error === 'string', 'a wrong token: 403 {"error": "..."}', r.text);
    r = await api(`token=${enc('x&y')}&content=record&format=json`);
    t.check(r.status === 403, 'a malformed token: 403', r.text);
    r = await api(`token=${TC}&content=record&format=json`);
    t.check(r.status === 403 && /export/.test(r.json.error), 'a coordinator (no export right) may not export records: 403', r.text);
    r = await api(`token=${TC}&content=metadata&format=json`);
    t.check(r.status === 200, '… but reads the metadata (protocol_read)', r.status);
    r = await api(`token=${T}&content=nonsense&format=json`);
    t.check(r.status === 400 && typeof r.json.error === 'string', 'an unknown content: 400', r.text);
    // filterLogic through core/expr.c, per row (record and event) as REDCap evaluates it
    r = await api(`token=${T}&content=record&format=json&fields=record_id,age&filterLogic=${enc('[age] > 40')}`);
    t.check(r.status === 200 && r.json.length === 1 && r.json[0].redcap_event_name === 'screening_arm_1' && r.json[0].age === '45',
        'filterLogic [age] > 40: the screening row only (age 45)', r.text.slice(0, 300));
    r = await api(`token=${T}&content=record&format=json&filterLogic=${enc('[age] > 45')}`);
    t.check(r.status === 200 && JSON.stringify(r.json) === '[]', 'filterLogic [age] > 45: no row', r.text.slice(0, 300));
    r = await api(`token=${T}&content=record&format=json&fields=record_id&filterLogic=${enc("[screening_arm_1][age] = '45' and [qual_cat1(1)] = '1'")}`);
    t.check(r.status === 200 && r.json.length === 1, "filterLogic with [event][field] and a checkbox option", r.text.slice(0, 300));
    r = await api(`token=${T}&content=record&format=json&filterLogic=${enc('[no_such_field] = 1')}`);
    t.check(r.status === 400 && /no_such_field/.test(r.json.error), 'filterLogic naming an unknown field: 400 naming it', r.text);
    r = await api(`token=${T}&content=record&format=json&filterLogic=${enc('[age] > ')}`);
    t.check(r.status === 400 && /filterLogic/.test(r.json.error), 'filterLogic that does not parse: 400', r.text);
    r = await api(`token=${T}&content=metadata&format=yaml`);
    t.check(r.status === 400, 'an unknown format: 400', r.text);
    // a session cookie is not a credential for /api/: the token is
    r = await call(B, 'POST', '/api/', { session: nurse, form: { content: 'record', format: 'json' } });
    t.check(r.status === 401, 'a signed-in browser session without token=: 401', r.text);
} catch (err) {
    t.check(false, 'no exception', err.stack);
} finally {
    const st = await srv.stop();
    t.check(st.code === 0, 'graceful shutdown', JSON.stringify(st));
}
t.done();
