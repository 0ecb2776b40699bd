// The attacks of the hardening run, kept as tests against a real `ioheme serve`: huge repeat
// instances, parallel password guessing, login CSRF, non-UTF-8 paths, HTTP versions, what a
// failed sign-in tells and keeps, spreadsheet formulas in CSV exports, and slow connections.
// Each check failed before its fix. Run by http_hardening.sh under ctest; loopback only.
import fs from 'node:fs';
import net from 'node:net';
import { makeDb, cli, startServer, call, login, runner, ELIGIBLE, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('http_hardening');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir, ['--threads', '16']);
const B = srv.base;
const port = Number(new URL(B).port);
const PROC = 'io_procedure_arm_1';

// A raw request on a socket from a chosen loopback address; resolves with the status line.
function raw(text, localAddress = '127.0.0.1') {
    return new Promise((resolve) => {
        const c = net.connect({ port, host: '127.0.0.1', localAddress }, () => c.write(text));
        let buf = '';
        c.setTimeout(5000, () => { c.destroy(); resolve('timeout'); });
        c.on('data', (d) => { buf += d; });
        c.on('close', () => resolve(buf.split('\r\n')[0]));
        c.on('error', () => resolve('error'));
    });
}

function auditCsv() { return cli(IOHEME, db, ['audit', 'export']); }

try {
    const admin = await login(B, 'admin');
    const nurse = await login(B, 'coordinator');

    // an enrolled patient with a complete infusion form at instance 1
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    const scr = r.json.record;
    r = await call(B, 'POST', `/api/v1/records/${scr}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    const ID = r.json.study_id;
    t.check(r.status === 200 && ID, 'setup: enrolled', r.text);
    r = await call(B, 'POST', `/api/v1/records/${ID}/values`, { session: nurse, json: { event: PROC, instance: 1, values: { inf_volume: '250' } } });
    t.check(r.status === 200, 'setup: infusion #1 saved', r.text);

    // ---- 1, 3: repeat instances are bounded and range-checked before any cast ----
    for (const inst of [2147483647, 4294967297, 1000, -1, 1.5]) {
        r = await call(B, 'POST', `/api/v1/records/${ID}/values`, { session: nurse, json: { event: PROC, instance: inst, values: { inf_volume: '999' } } });
        t.check(r.status === 422 && (r.json.error.field === 'instance' || (r.json.error.issues || []).some((i) => i.rule === 'instance')),
                `instance ${inst} refused with a 422 naming the instance`, r.text);
    }
    r = await call(B, 'GET', `/api/v1/records/${ID}/forms/infusion?event=${PROC}&instance=1`, { session: nurse });
    t.check(r.status === 200 && r.json.values.inf_volume === '250', '4294967297 did not overwrite instance 1', r.text);
    r = await call(B, 'GET', `/api/v1/records/${ID}/forms/infusion?event=${PROC}&instance=4294967297`, { session: nurse });
    t.check(r.status === 422, 'GET ?instance=4294967297: 422', r.text);
    r = await call(B, 'POST', `/api/v1/records/${ID}/values`, { session: nurse, json: { event: PROC, instance: 999, values: { inf_volume: '10' } } });
    t.check(r.status === 200, 'instance 999 (the maximum) is accepted', r.text);
    const t0 = Date.now();
    r = await call(B, 'GET', `/records/${ID}/casebook`, { session: nurse });
    // at once: well under what walking billions of instance numbers would take; the bound is
    // loose because the browser tests share the CPUs under ctest -j
    t.check(r.status === 200 && r.text.includes('#999') && Date.now() - t0 < 15000, 'casebook with instance 999 answers at once', r.status);
    r = await call(B, 'GET', `/records/${ID}/forms/${PROC}/infusion`, { session: nurse });
    t.check(r.status === 200 && r.text.includes('#999') && /allows at most 999/.test(r.text), 'instance list: no "Add" past the maximum', r.status);

    // ---- 2, 7: parallel guessing cannot beat the lockout; one message for every failure ----
    r = await call(B, 'POST', '/api/v1/users', { session: admin, csrf: true, json: { username: 'ward_nurse', role: 'coordinator', password: 'ward-nurse-pass' } });
    t.check(r.status === 201, 'setup: ward_nurse added', r.text);
    const attempts = [];
    for (let i = 0; i < 59; i++)
        attempts.push(call(B, 'POST', '/api/v1/login', { json: { username: 'ward_nurse', password: `guess-${i}-guess` } }));
    const results = await Promise.all(attempts);
    r = await call(B, 'POST', '/api/v1/login', { json: { username: 'ward_nurse', password: 'ward-nurse-pass' } });
    t.check(r.status === 401, 'after 59 parallel guesses the right password is refused', r.text);
    t.check(results.every((x) => x.status === 401), 'no guess got in', results.map((x) => x.status));
    const trail = auditCsv();
    const wrongChecked = trail.split('\n').filter((l) => l.includes('login_failed') && l.includes('wrong password') && l.includes('ward_nurse')).length;
    t.check(wrongChecked <= 5, `at most 5 guesses were checked (${wrongChecked})`);
    t.check(trail.split('\n').filter((l) => l.includes(',lockout,') && l.includes('ward_nurse')).length === 1, 'one lockout row');
    const msgs = new Set([...results, r].map((x) => x.json.error.message));
    const ghost = await call(B, 'POST', '/api/v1/login', { json: { username: 'no_such_user', password: 'whatever-1' } });
    msgs.add(ghost.json.error.message);
    t.check(msgs.size === 1 && ![...msgs][0].includes('ward_nurse'), 'every failure says the same, naming no account', [...msgs]);

    // ---- 10: a password typed as a username is not kept ----
    await call(B, 'POST', '/api/v1/login', { json: { username: 'S3cret-Typed-In-Wrong-Box', password: 'x' } });
    const trail2 = auditCsv();
    t.check(!trail2.includes('S3cret-Typed-In-Wrong-Box') && trail2.includes('(unknown user)'), 'unknown typed name audited as a marker');

    // ---- 8: client errors are 4xx, with a request id ----
    r = await call(B, 'GET', '/api/v1/records/%ff', { session: nurse });
    t.check(r.status === 400 && r.json.error.code === 'bad_request' && /^[0-9a-f]{16}$/.test(r.headers.get('x-request-id') || ''),
            'GET /api/v1/records/%ff: 400 with X-Request-Id', r.text);
    for (const p of [`/api/v1/records/${ID}/forms/%c3%28`, `/api/v1/records/${ID}/history/%ff`, `/api/v1/screening?event=%ff`, `/records/%ff`])
        t.check((await call(B, 'GET', p, { session: nurse })).status === 400, `GET ${p}: 400`);
    for (const [req, want] of [['GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n', '505'], ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '505'],
                               ['GET /healthz HTTP/0.9\r\nHost: x\r\n\r\n', '505'], ['GET /healthz FOO/1.0\r\nHost: x\r\n\r\n', '400']]) {
        const line = await raw(req);
        t.check(line.includes(` ${want} `), `${JSON.stringify(req.split('\r\n')[0])}: ${want}`, line);
    }

    // ---- 9: login CSRF ----
    const form = { username: 'admin', password: PASSWORD.admin };
    for (const h of [{ Origin: 'http://evil.example' }, { Referer: 'http://evil.example/page' }, { 'Sec-Fetch-Site': 'cross-site' },
                     { Origin: 'null' }, { Origin: `http://127.0.0.1:${port}.evil.example` }]) {
        r = await call(B, 'POST', '/login', { form, headers: h });
        t.check(r.status === 403 && !(r.headers.get('set-cookie') || '').includes('ioh_session='), `POST /login with ${JSON.stringify(h)}: 403, no session`, r.status);
        r = await call(B, 'POST', '/api/v1/login', { json: form, headers: h });
        t.check(r.status === 403, `POST /api/v1/login with ${JSON.stringify(h)}: 403`, r.status);
    }
    r = await call(B, 'POST', '/login', { form, headers: { Origin: B, 'Sec-Fetch-Site': 'same-origin' } });
    t.check(r.status === 303 && (r.headers.get('set-cookie') || '').includes('ioh_session='), 'same-origin sign-in works', r.status);
    r = await call(B, 'POST', '/login', { form, headers: { Origin: 'null', 'Sec-Fetch-Site': 'same-origin' } });
    t.check(r.status === 303, 'our own pages (Referrer-Policy no-referrer: Origin null) sign in', r.status);

    // ---- 11: formulas in CSV exports ----
    r = await call(B, 'POST', `/api/v1/records/${ID}/values`, { session: nurse, json: { event: PROC, instance: 1, values: { inf_type: '7', inf_drug: '=HYPERLINK("http://evil.example","x")' } } });
    t.check(r.status === 200, 'setup: a formula-looking value saved as text', r.text);
    const trail3 = auditCsv();
    t.check(trail3.includes(`"'=HYPERLINK(""http://evil.example"",""x"")"`) && !/,=HYPERLINK/.test(trail3), 'audit export neutralises the formula', trail3.split('\n').find((l) => l.includes('HYPERLINK')));
    r = await call(B, 'GET', `/api/v1/records/${ID}/forms/infusion?event=${PROC}&instance=1`, { session: nurse });
    t.check(r.json.values.inf_drug === '=HYPERLINK("http://evil.example","x")', 'the stored value is unchanged', r.text);

    // ---- 6: slow connections from one address do not starve the others ----
    const slow = [];
    let refused = 0;
    for (let i = 0; i < 150; i++) {
        const c = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
        c.on('connect', () => c.write('GET /healthz HTTP/1.1\r\n'));
        c.on('error', () => {});
        c.on('close', () => { refused++; });
        slow.push(c);
    }
    await new Promise((res) => setTimeout(res, 1500));
    const trickle = setInterval(() => { for (const c of slow) if (!c.destroyed) c.write('X-Slow: 1\r\n'); }, 1000);
    const t1 = Date.now();
    const ok = await Promise.all(Array.from({ length: 20 }, () => call(B, 'GET', '/healthz')));
    const elapsed = Date.now() - t1;
    clearInterval(trickle);
    // starved, they would wait as long as the trickle goes on; the bound is loose for a loaded CI
    t.check(ok.every((x) => x.status === 200) && elapsed < 10000, `20 normal requests served while 150 slow connections trickle (${elapsed} ms)`);
    t.check(refused >= 150 - 64, `one address holds at most 64 connections (${150 - refused} held)`);
    for (const c of slow) c.destroy();
} catch (e) {
    t.check(false, 'unexpected exception', e.stack);
} finally {
    const st = await srv.stop();
    t.check(st.code === 0, 'graceful stop', st);
    fs.rmSync(dir, { recursive: true, force: true });
    t.done();
}
