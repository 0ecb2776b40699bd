// The load of pg_failover.sh: two `ioheme serve` processes on the study's multi-host
// PostgreSQL URL and concurrent API clients saving values through both, across a failover the
// shell script causes. It runs nothing of PostgreSQL itself; the two talk through files in
// FAILOVER_DIR:
//
//   loading    written here once every client has had a save acknowledged and the load has
//              run LOAD_BEFORE_MS: the script then kill -9s the primary's postmaster
//   killed     written by the script at the kill (milliseconds since 1970)
//   promoting  written by the script just before `pg_ctl promote` (the same)
//   promoted   written by the script once `pg_ctl promote` has returned (the same); a save
//              acknowledged after it was committed by the new primary
//   acked.tsv  written here at the end: every acknowledged save (HTTP 200), one a line:
//              record, event, instance, field, value, server, time acknowledged (ms)
//   sent.tsv   every save sent, acknowledged or not: record, event, instance, field, value
//   load.txt   one line for the script's summary
//
// Each client owns one record and saves inf_volume of instance 1, 2, 3, ... of the IO
// procedure event, one at a time, through its server; a save answered 503 (the server lost
// its database connection, or no node accepts writes yet) or cut off (connection error,
// timeout) is sent again, unchanged, until a 200 comes; only a 200 is an acknowledgement. Any
// other answer is a failure of the test (a 500 or a 401 during a failover is a defect), and so
// is a server that saves nothing after the promotion or does not stop cleanly. The load
// goes on for LOAD_AFTER_MS after the promotion (and until both servers have saved again,
// at most MAX_AFTER_MS).
//
// Environment: IOHEME, IOHEME_SRC, FAILOVER_DIR, FAILOVER_URL, IOHEME_KEY_FILE (and the
// passwords the script gave: PASSWORD of http_lib.mjs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { call, login, runner, ELIGIBLE, freePort, listening } from '../e2e/http_lib.mjs';

const IOHEME = process.env.IOHEME, W = process.env.FAILOVER_DIR, URL = process.env.FAILOVER_URL;
const LOAD_BEFORE_MS = Number(process.env.LOAD_BEFORE_MS || 1500);
const LOAD_AFTER_MS = Number(process.env.LOAD_AFTER_MS || 4000);
const MAX_AFTER_MS = Number(process.env.MAX_AFTER_MS || 15000);
const CLIENTS_PER_SERVER = 3;
const EV = 'io_procedure_arm_1', FIELD = 'inf_volume';
const REQUEST_TIMEOUT_MS = 8000;
const t = runner(`pg_failover (${path.basename(W)})`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const volume = (rec, inst) => String((inst * 7 + rec * 13) % 3000); // inf_volume: 0..3000


// A server with its output in FAILOVER_DIR/server-NAME.log and its pid in server-NAME.pid (the
// script's clean-up kills it by that pid should this process die first).
const servers = [];
async function startServer(name) {
    const port = await freePort();
    const out = fs.openSync(path.join(W, `server-${name}.log`), 'a');
    const child = spawn(IOHEME, ['serve', '--db', URL, '--listen', `127.0.0.1:${port}`, '--threads', '4'],
                        { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    fs.writeFileSync(path.join(W, `server-${name}.pid`), `${child.pid}\n`);
    const srv = { name, base: `http://127.0.0.1:${port}`, child, exited: null };
    const gone = new Promise((resolve) => child.on('exit', (code, sig) => {
        srv.exited = { code, sig };
        fs.rmSync(path.join(W, `server-${name}.pid`), { force: true });
        resolve(srv.exited);
    }));
    srv.stop = async () => {
        if (!srv.exited) child.kill('SIGTERM');
        let timer;
        const st = await Promise.race([gone, new Promise((r) => { timer = setTimeout(() => r(null), 15000); })]);
        clearTimeout(timer);
        if (!st) { child.kill('SIGKILL'); await gone; return { code: null, sig: 'SIGKILL after 15 s' }; }
        return st;
    };
    servers.push(srv);
    for (let i = 0; i < 100 && !srv.exited; i++) {
        if (await listening(port)) return srv;
        await sleep(100);
    }
    throw new Error(`ioheme serve ${name} did not start: ${JSON.stringify(srv.exited)} ` +
                    fs.readFileSync(path.join(W, `server-${name}.log`), 'utf8'));
}
function killAll() {
    for (const s of servers) if (!s.exited) try { s.child.kill('SIGKILL'); } catch { /* gone */ }
}
process.on('exit', killAll);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { killAll(); process.exit(1); });

// One save, with its own timeout: { status } or { error } (cut off, refused, timed out).
async function save(base, token, rec, inst, value) {
    try {
        const res = await fetch(`${base}/api/v1/records/${rec}/values`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
            body: JSON.stringify({ event: EV, instance: inst, values: { [FIELD]: value } }),
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await res.text();
        return { status: res.status, text, retryAfter: res.headers.get('retry-after') };
    } catch (e) {
        return { error: e.name === 'TimeoutError' ? 'timeout' : String(e.cause ? e.cause.code || e.cause : e) };
    }
}
const readMs = (f) => (fs.existsSync(path.join(W, f)) ? Number(fs.readFileSync(path.join(W, f), 'utf8')) : 0);

try {
    const A = await startServer('A'), B = await startServer('B');
    // the patients, through A: one per client
    const nurse = await login(A.base, 'coordinator');
    const tok = await call(A.base, 'POST', '/api/v1/tokens', { session: nurse, json: {} });
    if (tok.status !== 200 && tok.status !== 201) throw new Error(`token: ${tok.status} ${tok.text}`);
    const token = tok.json.token;
    const clients = [];
    for (let i = 0; i < 2 * CLIENTS_PER_SERVER; i++) {
        let r = await call(A.base, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
        if (r.status !== 201) throw new Error(`screening: ${r.status} ${r.text}`);
        r = await call(B.base, 'POST', `/api/v1/records/${r.json.record}/enrol`,
                       { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
        if (r.status !== 200 && r.status !== 201) throw new Error(`enrol: ${r.status} ${r.text}`);
        clients.push({ i, rec: r.json.study_id, srv: i % 2 ? B : A });
    }

    const acked = [], sent = [];
    const counters = () => ({ ok: 0, after: 0, s503: 0, noRetryAfter: 0, cut: 0, other: 0, keptAnyway: 0, badChanged: 0, firstAfter: 0 });
    const stats = { A: counters(), B: counters() };
    let stop = false;
    const loops = clients.map(async (c) => {
        const st = stats[c.srv.name];
        for (let inst = 1; !stop; inst++) {
            const v = volume(c.i, inst);
            sent.push([c.rec, EV, inst, FIELD, v]);
            let refused = false; // answered 503 or cut off before
            for (;;) {
                const r = await save(c.srv.base, token, c.rec, inst, v);
                if (r.status === 200) {
                    const at = Date.now();
                    acked.push([c.rec, EV, inst, FIELD, v, c.srv.name, at]);
                    st.ok++;
                    // a new instance's value: "changed" 0 means an earlier attempt, answered
                    // 503 or cut off, had been committed after all
                    let changed = null;
                    try { changed = JSON.parse(r.text).changed; } catch { /* checked below */ }
                    if (refused && changed === 0) st.keptAnyway++;
                    else if (changed !== 1 && !st.badChanged++) st.badChangedText = `${c.rec} #${inst}: ${r.text}`;
                    const promoted = readMs('promoted');
                    if (promoted && at > promoted) {
                        st.after++;
                        if (!st.firstAfter) st.firstAfter = at;
                    }
                    c.acked = true;
                    break;
                }
                refused = true;
                if (r.status === 503) {
                    st.s503++;
                    if (r.retryAfter === null) st.noRetryAfter++;
                } else if (r.error) {
                    st.cut++;
                } else {
                    st.other++;
                    t.check(false, `server ${c.srv.name}: save ${c.rec} #${inst} answered 200 or 503`, `${r.status} ${r.text}`);
                }
                if (stop) break; // not acknowledged: it stays in sent.tsv only
                await sleep(50);
            }
        }
    });

    // every client acknowledged at least once, and LOAD_BEFORE_MS of load: then the kill
    const t0 = Date.now();
    while (clients.some((c) => !c.acked) || Date.now() - t0 < LOAD_BEFORE_MS) {
        if (Date.now() - t0 > 20000) throw new Error('not every client had a save acknowledged in 20 s');
        await sleep(20);
    }
    fs.writeFileSync(path.join(W, 'loading'), `${Date.now()}\n`);
    // the script kills the primary and promotes the standby
    while (!readMs('promoted')) {
        if (Date.now() - t0 > 40000) throw new Error('the standby was not promoted within 40 s');
        await sleep(20);
    }
    const promoted = readMs('promoted'), killed = readMs('killed'), promoting = readMs('promoting');
    while (Date.now() - promoted < LOAD_AFTER_MS ||
           (Date.now() - promoted < MAX_AFTER_MS && (stats.A.after === 0 || stats.B.after === 0)))
        await sleep(50);
    stop = true;
    await Promise.all(loops);

    for (const s of servers) {
        t.check(!s.exited, `server ${s.name} is still running after the failover`, s.exited);
        t.check(stats[s.name].after > 0, `server ${s.name} saves after the promotion (reconnected on its own)`,
                `${stats[s.name].after} saves acknowledged after the promotion, ${stats[s.name].s503} answered 503, ` +
                `${stats[s.name].cut} cut off; see server-${s.name}.log`);
    }
    for (const s of servers) {
        const st = stats[s.name];
        t.check(!st.noRetryAfter, `server ${s.name}: every 503 carries Retry-After`, `${st.noRetryAfter} without`);
        t.check(!st.badChanged, `server ${s.name}: every acknowledged save changed its one value`,
                `${st.badChanged} did not, first ${st.badChangedText}`);
    }
    for (const s of servers) {
        const st = await s.stop();
        t.check(st.code === 0, `server ${s.name} stops cleanly after the failover`, st);
    }
    // acknowledged after the kill but before the promotion was asked for: saves that were
    // committing (and replicated synchronously) as the postmaster died
    const inFlight = acked.filter((a) => a[6] > killed && a[6] < promoting);
    const ackedBefore = acked.filter((a) => a[6] <= killed).length;
    fs.writeFileSync(path.join(W, 'acked.tsv'), acked.map((a) => a.join('\t') + '\n').join(''));
    fs.writeFileSync(path.join(W, 'sent.tsv'), sent.map((a) => a.join('\t') + '\n').join(''));
    const gap = (s) => (s.firstAfter ? `${s.firstAfter - killed} ms` : 'never');
    fs.writeFileSync(path.join(W, 'load.txt'),
        `${ackedBefore} before the kill, after the promotion A ${stats.A.after} and B ${stats.B.after}; ` +
        `${stats.A.s503 + stats.B.s503} answered 503 and ${stats.A.cut + stats.B.cut} cut off, all retried ` +
        `(${stats.A.keptAnyway + stats.B.keptAnyway} of them had been kept all the same); ` +
        `kill to first save after the promotion: A ${gap(stats.A)}, B ${gap(stats.B)}; ` +
        `${inFlight.length} acknowledged in flight at the kill\n`);
} catch (e) {
    t.check(false, 'the load ran to the end', e.stack || String(e));
} finally {
    killAll();
    t.done();
}
