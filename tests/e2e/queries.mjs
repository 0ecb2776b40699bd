// Queries (discrepancy notes) end to end, through the JSON API and the CLI on one database: a
// soft flag becomes a system query, a monitor raises one on another value, the coordinator
// finds both under "mine" and answers by correcting the value (one transaction, the change's
// reason names the query; a correction made against a value changed meanwhile is refused),
// the monitor closes and reopens; refused actions are 403/409/422
// with a JSON error naming the member; the CLI lists the same queries; the chain verifies.
import { makeDb, startServer, call, login, cli, runner, ELIGIBLE } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('queries');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

try {
    const nurse = await login(B, 'coordinator'), mon = await login(B, 'monitor');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'fixture: IOH-001 enrolled', r.text);

    // 1. an out-of-range save opens a system query by itself
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 't0_arm_1', values: { hd_status: 1, hd_sbp: 400, hd_dbp: 80 } } });
    t.check(r.status === 200 && r.json.warnings.length === 1, 'SBP 400 saved with a warning', r.text);
    r = await call(B, 'GET', '/api/v1/queries', { session: mon });
    const sys = r.json.queries.find((q) => q.field === 'hd_sbp');
    t.check(r.status === 200 && sys && sys.origin === 'system' && sys.rule === 'max' && sys.raised_value === '400' && sys.status === 'open',
        'the soft flag became an open system query on hd_sbp', r.text);

    // 2. the monitor raises one on DBP, assigned to the coordinators
    r = await call(B, 'POST', '/api/v1/queries', { session: mon, json: { record: 'IOH-001', event: 't0_arm_1', field: 'hd_dbp', message: 'DBP 80 with SBP 400? check the printout', assignee: 'role:coordinator' } });
    t.check(r.status === 201 && r.json.status === 'open' && r.json.raised_value === '80' && r.json.thread.length === 1, 'monitor raises a query (201, thread of one)', r.text);
    const dbpId = r.json.id;
    r = await call(B, 'POST', '/api/v1/queries', { session: nurse, json: { record: 'IOH-001', event: 't0_arm_1', field: 'hd_dbp', message: 'x' } });
    t.check(r.status === 403 && r.json.error.code === 'forbidden', 'a coordinator may not raise (403)', r.text);
    r = await call(B, 'POST', '/api/v1/queries', { session: mon, json: { record: 'IOH-001', event: 't0_arm_1', field: 'no_such_field', message: 'x' } });
    t.check(r.status === 422 && r.json.error.field === 'field', 'an unknown field is a 422 naming "field"', r.text);
    r = await call(B, 'POST', '/api/v1/queries', { session: mon, json: { record: 'IOH-001', event: 't0_arm_1', field: 'hd_dbp' } });
    t.check(r.status === 422 && r.json.error.field === 'message', 'a query without a message is a 422 naming "message"', r.text);

    // 3. both wait for the coordinator, neither for the monitor
    r = await call(B, 'GET', '/api/v1/queries?mine=1', { session: nurse });
    t.check(r.json.queries.length === 2, 'two queries wait for the coordinator', r.text);
    r = await call(B, 'GET', '/api/v1/queries?mine=1', { session: mon });
    t.check(r.json.queries.length === 0, 'none waits for the monitor yet', r.text);

    // 4. answered by correcting the value: saved through the write path, linked by the reason;
    // with "expect", a value someone changed since it was read is not overwritten (409)
    r = await call(B, 'POST', `/api/v1/queries/${sys.id}/answer`, { session: nurse, json: { message: 'typo', values: { hd_sbp: 140 }, expect: { hd_sbp: 390 } } });
    t.check(r.status === 409 && r.json.error.code === 'conflict' && r.json.error.issues[0].rule === 'conflict', 'a correction against a value read before another save is refused (409 conflict)', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${sys.id}/answer`, { session: nurse, json: { message: 'typo', expect: { hd_sbp: 400 } } });
    t.check(r.status === 422 && r.json.error.field === 'expect', 'expect without values is a 422 naming "expect"', r.text);
    r = await call(B, 'GET', `/api/v1/queries/${sys.id}`, { session: nurse });
    t.check(r.json.status === 'open' && r.json.thread.length === 1, 'the refused answers left the query open, its thread as it was', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${sys.id}/answer`, { session: nurse, json: { message: 'typo: the printout says 140', values: { hd_sbp: 140 } } });
    t.check(r.status === 200 && r.json.status === 'answered', 'answered with the corrected value', r.text);
    t.check(r.json.thread.some((m) => m.action === 'value_change' && m.old === '400' && m.new === '140'), 'the thread shows 400 -> 140', r.text);
    r = await call(B, 'GET', '/api/v1/records/IOH-001/history/hd_sbp', { session: mon });
    t.check(r.text.includes(`query ${sys.id}: typo: the printout says 140`), 'the value change carries the reason "query N: ..."', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${dbpId}/answer`, { session: nurse, json: { message: 'x', values: { hd_dbp: 'abc' } } });
    t.check(r.status === 422 && r.json.error.issues && r.json.error.issues[0].field === 'hd_dbp', 'a bad correction refuses the answer (422 with issues)', r.text);
    r = await call(B, 'GET', `/api/v1/queries/${dbpId}`, { session: nurse });
    t.check(r.json.status === 'open' && r.json.thread.length === 1, 'the refused answer left the query as it was', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${dbpId}/answer`, { session: nurse, json: { message: 'DBP confirmed on the printout' } });
    t.check(r.status === 200 && r.json.status === 'answered', 'answered without a change', r.text);

    // 5. the monitor closes; closing twice is a conflict; reopen
    r = await call(B, 'GET', '/api/v1/queries?mine=1', { session: mon });
    t.check(r.json.queries.length === 2, 'two answered queries wait for the monitor', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${sys.id}/close`, { session: nurse, json: {} });
    t.check(r.status === 403, 'a coordinator may not close (403)', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${sys.id}/close`, { session: mon, json: { message: 'ok' } });
    t.check(r.status === 200 && r.json.status === 'closed', 'monitor closes', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${sys.id}/close`, { session: mon, json: {} });
    t.check(r.status === 409 && r.json.error.code === 'conflict', 'closing a closed query is a 409', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${sys.id}/reopen`, { session: mon, json: {} });
    t.check(r.status === 422 && r.json.error.field === 'message', 'reopening needs a message', r.text);
    r = await call(B, 'POST', `/api/v1/queries/${sys.id}/reopen`, { session: mon, json: { message: 'please attach the printout' } });
    t.check(r.status === 200 && r.json.status === 'open', 'reopened', r.text);
    r = await call(B, 'GET', '/api/v1/queries/999', { session: mon });
    t.check(r.status === 404, 'an unknown query is a 404', r.text);
    r = await call(B, 'GET', '/api/v1/queries?status=bogus', { session: mon });
    t.check(r.status === 422 && r.json.error.field === 'status', 'a bad status filter is a 422', r.text);

    // 6. the web pages: raise from the form page, answer with a corrected value, close
    // the API's sessions serve the pages too (one cookie, one CSRF token)
    const wmon = mon, wnurse = nurse;
    let page = await call(B, 'GET', '/records/IOH-001/forms/t0_arm_1/haemodynamics', { session: wmon });
    t.check(/Queries on this form/.test(page.text) && /Raise the query/.test(page.text), 'the form page lists its queries and offers "raise" to a monitor');
    page = await call(B, 'GET', '/records/IOH-001/forms/t0_arm_1/haemodynamics', { session: wnurse });
    t.check(!/Raise the query/.test(page.text), 'no "raise" for a coordinator');
    r = await call(B, 'POST', '/queries', { session: wmon, form: { record: 'IOH-001', event: 't0_arm_1', instance: '0', form: 'haemodynamics', field: 'hd_hr', message: 'HR <b>missing</b>?' } });
    t.check(r.status === 303 && /^\/queries\/\d+$/.test(r.headers.get('location')), 'raised from the form: 303 to the query', r.status);
    const webQ = r.headers.get('location');
    page = await call(B, 'GET', webQ, { session: wnurse });
    t.check(page.text.includes('HR &lt;b&gt;missing&lt;/b&gt;?') && !page.text.includes('<b>missing'), 'the question is HTML-escaped');
    t.check(/Corrected value/.test(page.text) && !/Close the query/.test(page.text), 'a coordinator is offered "answer" with a corrected value, not "close"');
    // the page shows the value now and sends it back with the correction: a save made on the
    // form page meanwhile is not overwritten unseen (409, the page shows the new value and keeps
    // what was typed); sent again from that page, the correction is saved knowingly
    const orig = (text) => (text.match(/name="orig" value="([^"]*)"/) || [])[1];
    t.check(/Value now<\/dt><dd>\(blank\)/.test(page.text) && orig(page.text) === '', 'the query page shows the value now (blank) and carries it as "orig"', page.text.slice(0, 300));
    r = await call(B, 'POST', `${webQ}/answer`, { session: wnurse, form: { message: 'entered late', value: 'fast', orig: orig(page.text) } });
    t.check(r.status === 422 && /hd_hr/.test(r.text), 'a bad corrected value is refused on the page (422, names the field)', r.status);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 't0_arm_1', values: { hd_hr: 88 } } });
    t.check(r.status === 200, 'meanwhile HR 88 is saved from elsewhere', r.text);
    r = await call(B, 'POST', `${webQ}/answer`, { session: wnurse, form: { message: 'entered late', value: '96', orig: orig(page.text) } });
    t.check(r.status === 409 && /changed by another save/.test(r.text), 'the correction against the blank the page showed is refused (409)', r.status);
    t.check(/Value now<\/dt><dd>88</.test(r.text) && orig(r.text) === '88' && r.text.includes('>entered late</textarea>') && /name="value" value="96"/.test(r.text),
        'the refused page shows HR 88 now and keeps the answer and value typed', r.text.slice(0, 300));
    r = await call(B, 'GET', '/api/v1/records/IOH-001/forms/haemodynamics?event=t0_arm_1', { session: nurse });
    t.check(r.json && r.json.values && r.json.values.hd_hr === '88', 'HR 88 is still stored', r.text);
    r = await call(B, 'POST', `${webQ}/answer`, { session: wnurse, form: { message: 'entered late', value: '96', orig: '88' } });
    t.check(r.status === 303, 'answered with the value from the page', r.status);
    r = await call(B, 'GET', '/api/v1/records/IOH-001/forms/haemodynamics?event=t0_arm_1', { session: nurse });
    t.check(r.json && r.json.values && r.json.values.hd_hr === '96', 'the corrected value is stored', r.text);
    r = await call(B, 'POST', `${webQ}/close`, { session: wnurse, form: {} });
    t.check(r.status === 403, 'a coordinator cannot close from the page (403)', r.status);
    r = await call(B, 'POST', `${webQ}/close`, { session: wmon, form: { message: 'thanks' } });
    t.check(r.status === 303, 'the monitor closes from the page', r.status);
    page = await call(B, 'GET', '/queries?status=all', { session: wmon });
    t.check(/● Closed/.test(page.text) && /◯ Open/.test(page.text), 'the list shows statuses by shape and text', page.text.slice(0, 200));
    page = await call(B, 'GET', '/', { session: wnurse });
    t.check(/waiting for you/.test(page.text), 'the dashboard shows the queries waiting for me');
    page = await call(B, 'GET', '/records/IOH-001', { session: wnurse });
    t.check(/Queries: \d+ open, \d+ answered/.test(page.text), 'the subject page shows its query counts');

    // 7. the CLI sees the same queries and writes the same way
    const list = JSON.parse(cli(IOHEME, db, ['query', 'list', '--status', 'all', '--json']));
    t.check(list.length === 3 && list.every((q) => q.record === 'IOH-001'), 'CLI lists the same three queries', list);
    const out = cli(IOHEME, db, ['query', 'close', String(dbpId), '--message', 'closed from the CLI']);
    t.check(/closed/.test(out), 'CLI closes a query', out);
    const show = JSON.parse(cli(IOHEME, db, ['query', 'show', String(dbpId), '--json']));
    t.check(show.status === 'closed' && show.thread.at(-1).text === 'closed from the CLI', 'CLI show has the thread', show);
    const trail = cli(IOHEME, db, ['audit', 'export']);
    for (const a of ['query_open', 'query_answer', 'query_close', 'query_reopen'])
        t.check(trail.includes(`,${a},`), `the audit trail has ${a} rows`);
    t.check(/intact/.test(cli(IOHEME, db, ['audit', 'verify'])), 'the audit chain verifies');
} finally {
    await srv.stop();
    t.done();
}
