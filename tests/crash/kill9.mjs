// Durability under `kill -9`: writers save values as fast as they can, the process that writes
// is killed with SIGKILL at a random moment, and then every save that was acknowledged must be
// in the database with its value, the audit chain must verify and SQLite's integrity check must
// say "ok".
//
//   mode api: `ioheme serve` on a free 127.0.0.1 port, concurrent POST /api/v1/records/{id}/values
//             (one keep-alive loop per record); acknowledged = HTTP 200. The server is killed.
//   mode cli: concurrent `ioheme set` loops; acknowledged = exit status 0. Every running `set`
//             is killed at once.
//
// Every save writes inf_volume of its own repeating instance (io_procedure_arm_1, instance n),
// so each acknowledgement is one (record, instance) -> value that must read back; a save that was
// in flight when the kill came may be there or not, but if it is, its value must be the one sent.
//
// Environment: IOHEME (binary), IOHEME_SRC (source tree), IOHEME_CRASH_RUNS (runs per mode,
// default 2), IOHEME_CRASH_MAX_MS (longest load before the kill, default 1500),
// IOHEME_CRASH_MODES ("api,cli"), IOHEME_CRASH_SEED (the random kill moments; printed).
// Bounded: runs x (load + checks); traffic only to 127.0.0.1; every process it starts is
// killed on exit, and the temporary folder is removed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeDb, cli, startServer, call, login, runner, ELIGIBLE, PASSWORD } from '../e2e/http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const RUNS = Math.max(1, Number(process.env.IOHEME_CRASH_RUNS || 2));
const MAX_MS = Math.max(200, Number(process.env.IOHEME_CRASH_MAX_MS || 1500));
const MODES = (process.env.IOHEME_CRASH_MODES || 'api,cli').split(',').filter(Boolean);
let seed = Number(process.env.IOHEME_CRASH_SEED || (Date.now() % 1000000));
const NRECORDS = 4;      // one writer loop per record
const EV = 'io_procedure_arm_1';
const t = runner('crash_kill9');

// mulberry32: the kill moments are reproducible from the printed seed.
function rand() {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The kill moment counts from the first acknowledged save, so a slow start (a loaded machine,
// the argon2id sign-in of every CLI command) cannot leave a run with nothing to check.
async function firstAck(acked) {
    for (let waited = 0; acked.size === 0 && waited < 30000; waited += 10) await sleep(10);
}
const volume = (rec, inst) => String((inst * 7 + rec * 13) % 3000); // inf_volume: number 0..3000

// Every child started here, so that an early exit leaves none behind.
const children = new Set();
function track(child) {
    children.add(child);
    child.on('exit', () => children.delete(child));
    return child;
}
function killAll() {
    for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ }
}
process.on('exit', killAll);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { killAll(); process.exit(1); });

// The template: a study with NRECORDS enrolled patients, made once and copied for each run.
const { dir, db: template } = makeDb(IOHEME, SRC);
const args = Object.entries(ELIGIBLE).map(([k, v]) => `${k}=${v}`);
const records = [];
for (let i = 0; i < NRECORDS; i++) {
    cli(IOHEME, template, ['screen', ...args]);
    const out = cli(IOHEME, template, ['enroll', `SCR-00${i + 1}`, 'cons_type=1', 'cons_dt=2026-11-20 10:00', '--json']);
    records.push(JSON.parse(out).study_id);
}

function freshDb(name) {
    const db = path.join(dir, `${name}.db`);
    fs.copyFileSync(template, db);
    return db;
}

// Loads in the current mode until killAt, then kills; returns the acknowledged saves as
// Map "rec|inst" -> value and the saves that were sent but not acknowledged.
async function apiLoad(db, killAt) {
    const srv = await startServer(IOHEME, db, dir);
    track(srv.child);
    // a bearer token per writer: no CSRF, no cookie, one login (argon2id) up front
    const nurse = await login(srv.base, 'coordinator');
    const tok = await call(srv.base, 'POST', '/api/v1/tokens', { session: nurse, json: {} });
    const session = { bearer: tok.json && tok.json.token };
    const acked = new Map(), sent = new Map();
    let stop = false;
    const loops = records.map(async (rec, ri) => {
        for (let inst = 1; !stop; inst++) {
            const v = volume(ri, inst);
            sent.set(`${rec}|${inst}`, v);
            try {
                const r = await call(srv.base, 'POST', `/api/v1/records/${rec}/values`,
                                     { session, json: { event: EV, instance: inst, values: { inf_volume: v } } });
                if (r.status === 200) acked.set(`${rec}|${inst}`, v);
                else if (!stop) t.check(false, `api save ${rec} #${inst} before the kill`, `${r.status} ${r.text}`);
            } catch { return; } // connection died with the server
        }
    });
    await firstAck(acked);
    await sleep(killAt);
    srv.child.kill('SIGKILL');
    stop = true;
    await Promise.all(loops);
    return { acked, sent };
}

async function cliLoad(db, killAt) {
    const acked = new Map(), sent = new Map();
    const env = { ...process.env, IOHEME_USER: 'coordinator', IOHEME_PASSWORD: PASSWORD.coordinator };
    let stop = false;
    const running = new Set();
    const loops = records.map(async (rec, ri) => {
        for (let inst = 1; !stop; inst++) {
            const v = volume(ri, inst);
            sent.set(`${rec}|${inst}`, v);
            const code = await new Promise((resolve) => {
                const c = track(spawn(IOHEME, ['set', rec, `${EV}:${inst}`, `inf_volume=${v}`, '--db', db],
                                      { env, stdio: ['ignore', 'ignore', 'pipe'] }));
                let err = '';
                c.stderr.on('data', (d) => { err += d; });
                running.add(c);
                c.on('close', (status, sig) => { running.delete(c); resolve({ status, sig, err }); });
            });
            if (code.status === 0) acked.set(`${rec}|${inst}`, v);
            else if (code.sig !== 'SIGKILL')
                t.check(false, `cli set ${rec} #${inst} before the kill`, `${code.status} ${code.err}`);
        }
    });
    await firstAck(acked);
    await sleep(killAt);
    stop = true;
    for (const c of running) c.kill('SIGKILL');
    await Promise.all(loops);
    return { acked, sent };
}

function sqliteIntegrity(db) {
    const r = spawnSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : `sqlite3 failed (${r.status}): ${r.stderr}`;
}

// After the kill: integrity, then a restarted server must answer with every acknowledged save,
// then the audit chain verifies.
async function check(mode, run, db, { acked, sent }) {
    const what = `${mode} run ${run}`;
    const integ = sqliteIntegrity(db);
    t.check(integ === 'ok', `${what}: PRAGMA integrity_check after kill -9`, integ);
    const srv = await startServer(IOHEME, db, dir);
    track(srv.child);
    try {
        const s = await login(srv.base, 'coordinator');
        const stored = new Map();
        for (const rec of records) {
            const r = await call(srv.base, 'GET', `/api/v1/records/${rec}`, { session: s });
            if (!t.check(r.status === 200, `${what}: restarted server reads ${rec}`, r.text)) continue;
            for (const v of r.json.values)
                if (v.field === 'inf_volume' && v.event === EV) stored.set(`${rec}|${v.instance}`, v.value);
        }
        let lost = 0, wrong = 0, phantom = 0;
        for (const [k, v] of acked) {
            if (!stored.has(k)) lost++;
            else if (stored.get(k) !== v) wrong++;
        }
        for (const [k, v] of stored) if (!sent.has(k) || sent.get(k) !== v) phantom++;
        t.check(acked.size > 0, `${what}: some saves were acknowledged before the kill`, acked.size);
        t.check(lost === 0 && wrong === 0, `${what}: every acknowledged save is there with its value`,
                `${acked.size} acknowledged, ${lost} lost, ${wrong} with another value`);
        t.check(phantom === 0, `${what}: nothing stored that was not sent`, `${phantom} unexpected values`);
        // the restarted server still writes (the next instance of the first record)
        let next = 1;
        while (sent.has(`${records[0]}|${next}`)) next++;
        const r = await call(srv.base, 'POST', `/api/v1/records/${records[0]}/values`,
                             { session: s, json: { event: EV, instance: next, values: { inf_volume: '1' } } });
        t.check(r.status === 200, `${what}: restarted server saves`, r.text);
        console.log(`${what}: ${acked.size} acknowledged saves, ${stored.size} stored, ${sent.size} sent`);
    } finally {
        const st = await srv.stop();
        t.check(st.code === 0, `${what}: restarted server stops cleanly`, st);
    }
    const v = spawnSync(IOHEME, ['audit', 'verify', '--db', db],
                        { env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin }, encoding: 'utf8' });
    t.check(v.status === 0, `${what}: ioheme audit verify`, v.stdout + v.stderr);
}

console.log(`crash_kill9: seed ${seed}, ${RUNS} run(s) per mode (${MODES.join(', ')}), kill within ${MAX_MS} ms`);
try {
    for (const mode of MODES) {
        for (let run = 1; run <= RUNS; run++) {
            const db = freshDb(`${mode}-${run}`);
            // after the first acknowledged save, at most MAX_MS
            const killAt = Math.round(200 + rand() * (MAX_MS - 200));
            const load = mode === 'api' ? await apiLoad(db, killAt) : await cliLoad(db, killAt);
            await check(mode, run, db, load);
            for (const f of [db, `${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
        }
    }
} catch (e) {
    t.check(false, 'crash test ran to the end', e.stack || String(e));
} finally {
    killAll();
    t.done();
    if (!t.failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`crash_kill9: kept ${dir} for inspection`);
}
