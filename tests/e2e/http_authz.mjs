// The authorisation matrix: every route of the route table (from `ioheme serve --routes`) called
// as every role and logged out. Fails if any forbidden call succeeds, if a permitted call is
// refused, if a logged-out call to a private route is not refused, or if a refusal is not
// audited as "denied". The expected role × action table is written out here from
// core/perm.h's documented matrix, not read from the program under test.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeDb, cli, startServer, call, login, runner, ROLES, ELIGIBLE } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('http_authz');

const ALL = ROLES;
const CLINICAL = ['admin', 'investigator', 'coordinator'];
const EXPECTED = {
    user_manage: ['admin'],
    protocol_read: ALL,
    data_read: ALL,
    screen: CLINICAL,
    enroll: CLINICAL,
    data_write: CLINICAL,
    form_status: CLINICAL,
    audit_read: ['admin', 'investigator', 'monitor', 'data_manager'],
    query_raise: ['admin', 'monitor', 'data_manager'],
    query_answer: CLINICAL,
    query_close: ['admin', 'monitor', 'data_manager'],
    sdv: ['admin', 'monitor'],
    sign: ['investigator'],
    lock: ['admin', 'data_manager'],
    unlock: ['admin', 'data_manager'],
    site_manage: ['admin'],
};

// Who may call what: the specification this test holds the route table to, written by hand
// (a route added to the table without a row here fails the test).
const PUBLIC = 'public', SIGNED_IN = 'any signed-in user';
const SPEC = {
    'GET /healthz': PUBLIC,
    'GET /static/{name}': PUBLIC,
    'POST /api/v1/login': PUBLIC,
    'POST /api/': PUBLIC, // REDCap's API: the body's token= authenticates, each content is authorised (redcap_api.mjs)
    'POST /api/v1/logout': SIGNED_IN,
    'GET /api/v1/me': SIGNED_IN,
    'POST /api/v1/tokens': SIGNED_IN,
    'GET /api/v1/tokens': SIGNED_IN,
    'POST /api/v1/tokens/{token}/revoke': SIGNED_IN,
    'GET /api/v1/protocol': "protocol_read",
    'GET /api/v1/screening': "data_read",
    'POST /api/v1/screening': "screen",
    'GET /api/v1/records': "data_read",
    'GET /api/v1/records/{id}': "data_read",
    'GET /api/v1/records/{id}/eligibility': "data_read",
    'POST /api/v1/records/{id}/enrol': "enroll",
    'GET /api/v1/records/{id}/forms/{form}': "data_read",
    'POST /api/v1/records/{id}/values': "data_write",
    'GET /api/v1/records/{id}/stopwatch': "data_read",
    'POST /api/v1/records/{id}/stopwatch': "data_write",
    'POST /api/v1/records/{id}/forms/{form}/status': "form_status",
    'GET /api/v1/records/{id}/history/{field}': "data_read",
    'GET /api/v1/records/{id}/audit': "audit_read",
    'GET /api/v1/queries': "data_read",
    'POST /api/v1/queries': "query_raise",
    'GET /api/v1/queries/{qid}': "data_read",
    'POST /api/v1/queries/{qid}/answer': "query_answer",
    'POST /api/v1/queries/{qid}/close': "query_close",
    'POST /api/v1/queries/{qid}/reopen': "query_close",
    'GET /api/v1/users': "user_manage",
    'POST /api/v1/users': "user_manage",
    'POST /api/v1/users/{name}/unlock': "user_manage",
    'POST /api/v1/users/{name}/disable': "user_manage",
    'GET /api/v1/users/{name}/tokens': "user_manage",
    'GET /api/v1/users/{name}/sites': "user_manage",
    'POST /api/v1/users/{name}/sites': "user_manage",
    'GET /api/v1/sites': "protocol_read",
    'POST /api/v1/sites': "site_manage",
    'POST /api/v1/records/{id}/site': "site_manage",
    'POST /api/v1/users/{name}/tokens/{token}/revoke': "user_manage",
    'GET /login': PUBLIC,
    'POST /login': PUBLIC,
    'POST /logout': SIGNED_IN,
    'GET /': "data_read",
    'GET /screening': "data_read",
    'GET /screening/new': "screen",
    'POST /screening/new': "screen",
    'GET /records/{id}': "data_read",
    'POST /records/{id}/enrol': "enroll",
    'GET /records/{id}/forms/{event}/{form}': "data_read",
    'POST /records/{id}/forms/{event}/{form}': "data_write",
    'GET /forms/{form}/logic.js': "protocol_read",
    'GET /records/{id}/stopwatch': "data_write",
    'GET /records/{id}/history/{field}': "data_read",
    'GET /records/{id}/casebook': "data_read",
    'GET /queries': "data_read",
    'POST /records/{id}/sign': "sign",
    'GET /api/v1/records/{id}/signatures': "data_read",
    'POST /api/v1/records/{id}/signatures': "sign",
    'POST /records/{id}/forms/{event}/{form}/sdv': "sdv",
    'POST /api/v1/records/{id}/lock': "lock",
    'POST /api/v1/records/{id}/unlock': "unlock",
    'POST /records/{id}/lock': "lock",
    'POST /records/{id}/unlock': "unlock",
    'POST /records/{id}/forms/{event}/{form}/lock': "lock",
    'POST /records/{id}/forms/{event}/{form}/unlock': "unlock",
    'GET /api/v1/sdv': "data_read",
    'GET /api/v1/records/{id}/sdv': "data_read",
    'POST /api/v1/records/{id}/sdv': "sdv",
    'POST /queries': "query_raise",
    'GET /queries/{qid}': "data_read",
    'POST /queries/{qid}/answer': "query_answer",
    'POST /queries/{qid}/close': "query_close",
    'POST /queries/{qid}/reopen': "query_close",
    'GET /users': "user_manage",
    'POST /users': "user_manage",
    'GET /api/v1/db': "data_read",
    'POST /api/v1/db/freeze': "lock",
    'POST /api/v1/db/unfreeze': "unlock",
    'POST /api/v1/db/lock': "lock",
    'POST /api/v1/db/unlock': "unlock",
    'GET /study': "data_read",
    'POST /study/freeze': "lock",
    'POST /study/unfreeze': "unlock",
    'POST /study/sign': "sign",
    'POST /study/lock': "lock",
    'POST /study/unlock': "unlock",
};

const routes = JSON.parse(spawnSync(IOHEME, ['serve', '--routes'], { encoding: 'utf8' }).stdout);
t.check(routes.length >= 30, 'the route table is listed', routes.length);
for (const r of routes) {
    const key = `${r.method} ${r.pattern}`;
    const want = SPEC[key];
    const have = r.public ? PUBLIC : (r.permission || SIGNED_IN);
    t.check(want !== undefined, `${key} has a row in this test's SPEC`);
    t.check(want === undefined || want === have, `${key}: route table says '${have}', SPEC says '${want}'`);
    t.check(r.method === 'GET' || r.public || r.csrf, `${key}: a state-changing route needs CSRF`);
    // (an unlock is what a locked record takes)
    t.check(!(r.method === 'POST' && /\{id\}/.test(r.pattern) && r.permission && r.permission !== 'data_read' &&
              r.permission !== 'unlock') || r.record_lock,
            `${key}: a write to a record is lock-checked`);
}
for (const key of Object.keys(SPEC))
    t.check(routes.some((r) => `${r.method} ${r.pattern}` === key), `SPEC row ${key} is in the route table`);

// docs/api.md documents every API route (git's t0450 idea).
const apiDoc = fs.readFileSync(path.join(SRC, 'docs/api.md'), 'utf8');
for (const r of routes.filter((x) => x.pattern.startsWith('/api/')))
    t.check(apiDoc.includes(`${r.method} ${r.pattern}`), `docs/api.md documents ${r.method} ${r.pattern}`);

const { dir, db } = makeDb(IOHEME, SRC);
cli(IOHEME, db, ['user', 'add', 'matrix_target', '--role', 'monitor'], 'target-pass-2026\n');
const srv = await startServer(IOHEME, db, dir, ['--route-stats']);
const B = srv.base;

function auditCount(action) {
    return cli(IOHEME, db, ['audit', 'export']).split('\n').filter((l) => l.split(',').includes(action)).length;
}

try {
    const nurse = await login(B, 'coordinator');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'fixture: an enrolled record', r.text);

    const sessions = {};
    for (const role of ROLES) sessions[role] = await login(B, role);
    const params = { id: 'IOH-001', form: 'haemodynamics', event: 't0_arm_1', field: 'hd_sbp', token: '0123456789abcdef', qid: '1' };
    const deniedBefore = auditCount('denied');
    let forbidden = 0, calls = 0;

    for (const rt of routes) {
        const p = rt.pattern.replace(/\{(\w+)\}/g, (_, k) =>
            k === 'name' ? (rt.pattern.startsWith('/static') ? 'app.css' : 'matrix_target') : params[k]);
        const body = (s) => rt.method === 'GET' ? {} : rt.html ? { form: {}, session: s } : { json: {}, session: s };
        for (const who of [null, ...ROLES]) {
            let s = who ? sessions[who] : undefined;
            if (who && /logout/.test(rt.pattern)) s = await login(B, who); // keep the shared session alive
            const res = await call(B, rt.method, p, { session: s, ...body(s) });
            calls++;
            const label = `${rt.method} ${rt.pattern} as ${who || 'logged out'} -> ${res.status}`;
            if (!who) {
                // a public route answers anyone (login answers 401 to empty credentials: that is
                // authentication, not authorisation)
                if (rt.public) t.check(res.status !== 403, label);
                else if (rt.html) t.check(res.status === 303 && res.headers.get('location') === '/login', label + ' (expected redirect to /login)');
                else t.check(res.status === 401 && res.json && res.json.error.code === 'unauthenticated', label + ' (expected 401)', res.text);
                continue;
            }
            if (rt.public) {
                t.check(res.status !== 403, label);
                continue;
            }
            const want = SPEC[`${rt.method} ${rt.pattern}`];
            const allowed = want === SIGNED_IN || (EXPECTED[want] || []).includes(who);
            t.check(want === SIGNED_IN || want in EXPECTED, `${rt.pattern}: permission '${want}' is in the expected table`);
            if (allowed) {
                t.check(res.status !== 401 && res.status !== 403, label + ' (permitted, must not be refused)', res.text.slice(0, 200));
            } else {
                forbidden++;
                t.check(res.status === 403, label + ' (FORBIDDEN CALL NOT REFUSED)', res.text.slice(0, 200));
                if (!rt.html) t.check(res.json && res.json.error.code === 'forbidden', label + ' error code forbidden', res.text);
            }
        }
    }
    // the matrix froze the database (POST /api/v1/db/freeze as admin, with no reason): open it
    // again for what follows
    t.check(/available/.test(cli(IOHEME, db, ['db', 'unfreeze', '--reason', 'after the matrix'])), 'the matrix froze the database; unfrozen');
    // … and locked record IOH-001 (POST …/lock as admin, no form named): unlock it too
    t.check(JSON.parse(cli(IOHEME, db, ['show', 'IOH-001', '--json'])).locked === true &&
            /unlocked/.test(cli(IOHEME, db, ['unlock', 'IOH-001', '--reason', 'after the matrix'])), 'the matrix locked IOH-001; unlocked');
    // The form page offers only what the role may do: the status selector needs form_status,
    // the save bar (Save; the reason box too once the form holds data) data_write.
    for (const role of ROLES) {
        const res = await call(B, 'GET', '/records/IOH-001/forms/t0_arm_1/haemodynamics', { session: sessions[role] });
        t.check(res.status === 200, `form page as ${role}`, res.status);
        const hasStatus = /name="__status"/.test(res.text), hasSave = /type="submit">Save</.test(res.text);
        t.check(hasStatus === EXPECTED.form_status.includes(role), `form page as ${role}: status selector offered iff form_status (${hasStatus})`);
        t.check(hasSave === EXPECTED.data_write.includes(role), `form page as ${role}: save bar offered iff data_write (${hasSave})`);
        t.check(/<fieldset class="readonly" disabled>/.test(res.text) !== EXPECTED.data_write.includes(role), `form page as ${role}: inputs disabled iff no data_write`);
    }
    // … and the other pages link to no action the role may not take: screening a patient
    // (screen), enrolling one (enroll), the IO stopwatch (data_write).
    r = await call(B, 'POST', '/api/v1/screening', { session: sessions.coordinator, json: { values: ELIGIBLE } });
    const eligibleOnly = r.json && r.json.record;
    t.check(!!eligibleOnly, 'fixture: a screened, eligible, not enrolled record', r.text);
    for (const role of ROLES) {
        for (const page of ['/', '/screening']) {
            const res = await call(B, 'GET', page, { session: sessions[role] });
            t.check(res.text.includes('href="/screening/new"') === EXPECTED.screen.includes(role),
                    `${page} as ${role}: "Screen a new patient" offered iff screen`);
        }
        let res = await call(B, 'GET', '/records/IOH-001', { session: sessions[role] });
        t.check(res.text.includes('/stopwatch"') === EXPECTED.data_write.includes(role),
                `subject page as ${role}: stopwatch offered iff data_write`);
        res = await call(B, 'GET', `/records/${eligibleOnly}`, { session: sessions[role] });
        t.check(res.text.includes('id="enrol"') === EXPECTED.enroll.includes(role),
                `subject page of an eligible patient as ${role}: enrolment offered iff enroll`);
    }
    // /study offers the database transitions the role may make: freeze (lock) while available
    for (const role of ROLES) {
        const res = await call(B, 'GET', '/study', { session: sessions[role] });
        t.check(res.status === 200 && /id="db-state"/.test(res.text), `/study as ${role}`, res.status);
        t.check(/id="db-freeze"/.test(res.text) === EXPECTED.lock.includes(role), `/study as ${role}: freeze offered iff lock`);
    }
    const denied = auditCount('denied') - deniedBefore;
    t.check(denied === forbidden, `every refusal is audited as denied (${denied} of ${forbidden})`);
    console.log(`http_authz: ${routes.length} routes x ${ROLES.length + 1} callers = ${calls} calls, ${forbidden} forbidden`);
} catch (e) {
    t.check(false, 'unexpected exception', e.stack);
}
const exit = await srv.stop();
t.check(exit.code === 0, 'SIGTERM: graceful exit 0', exit);
// The server's per-route counters (written at shutdown): every route of the table was hit.
const stats = fs.readFileSync(srv.log, 'utf8').split('\n').filter((l) => l.startsWith('route-stats '));
t.check(stats.length === routes.length, 'a counter line per route', stats.length);
for (const l of stats)
    t.check(!/ calls=0 /.test(l), `route hit by the matrix: ${l}`);
if (!t.failed) fs.rmSync(dir, { recursive: true, force: true }); // kept on failure, for the logs
t.done();
