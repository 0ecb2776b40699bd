// Shared by the HTTP end-to-end tests (http_api.mjs, http_authz.mjs) and the browser test:
// creates a fresh study database with one user per role through the CLI, starts
// `ioheme serve` on a free loopback port, and talks to it (sessions, CSRF, JSON).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROLES = ['admin', 'investigator', 'coordinator', 'monitor', 'data_manager', 'statistician'];
export const PASSWORD = { admin: 'admin-pass-2026' };
for (const r of ROLES.slice(1)) PASSWORD[r] = `${r}-pass-2026`;

export function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
}

export function listening(port) {
    return new Promise((resolve) => {
        const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
        c.on('error', () => resolve(false));
    });
}

function run(ioheme, args, env, input) {
    const r = spawnSync(ioheme, args, { env: { ...process.env, ...env }, input, encoding: 'utf8' });
    if (r.status !== 0)
        throw new Error(`ioheme ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
}

// Where a test's study lives: DIR/NAME.db, or with IOHEME_TEST_PG (a cluster directory made by
// tests/pg/cluster.sh start, the ctest "pg" fixture) a fresh PostgreSQL database of that cluster,
// with IOHEME_KEY_FILE naming its key file (DIR/NAME.key) for every ioheme this process starts:
// the same test, the other backend.
export function studyDb(dir, name = 'study') {
    const pg = process.env.IOHEME_TEST_PG;
    if (!pg) return path.join(dir, `${name}.db`);
    const db = `t_${path.basename(dir).replace(/[^a-zA-Z0-9]/g, '_').toLowerCase()}_${name}`;
    const r = spawnSync(path.join(import.meta.dirname, '../pg/cluster.sh'),
                        ['createdb', pg, db], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cluster.sh createdb failed: ${r.stderr}`);
    process.env.IOHEME_KEY_FILE = path.join(dir, `${name}.key`);
    return r.stdout.trim();
}

// The temporary folders makeDb made: removed when the test exits 0, kept (and named) when it
// fails, for whoever reads its output; IOHEME_KEEP_TMP=1 keeps them always.
const tempDirs = [];
process.on('exit', (code) => {
    if (!tempDirs.length) return;
    if (code !== 0 || process.env.IOHEME_KEEP_TMP) {
        console.log(`kept: ${tempDirs.join(' ')}`);
        return;
    }
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

// A fresh database in a new temporary folder: user <role> for every role (admin is "admin").
// { synthetic: true }: a training/demo database (`init --synthetic`), the only kind `simulate` fills;
// { protocol: DIR }: another protocol folder than protocols/io-heme.
export function makeDb(ioheme, src, opts = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioheme-http-'));
    tempDirs.push(dir);
    const db = studyDb(dir);
    run(ioheme, ['init', '--db', db, '--admin', 'admin', '--protocol', opts.protocol || path.join(src, 'protocols/io-heme'),
                 ...(opts.synthetic ? ['--synthetic'] : [])],
        { IOHEME_PASSWORD: PASSWORD.admin });
    for (const r of ROLES.slice(1))
        run(ioheme, ['user', 'add', r, '--role', r, '--db', db],
            { IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin }, PASSWORD[r] + '\n');
    return { dir, db };
}

// Runs one SQL statement on the study database behind the CLI's back (what a test needs to set up
// a state no command makes): sqlite3 on a file, psql on a PostgreSQL URL. Write SQL both accept
// ("user" quoted). Returns spawnSync's result; stdout is unaligned, one row a line, `|` between
// columns, as sqlite3 prints it.
export function sql(db, statement) {
    if (!db.includes('://')) return spawnSync('sqlite3', [db, statement], { encoding: 'utf8' });
    const bin = fs.readdirSync('/usr/lib/postgresql').sort().pop();
    return spawnSync(`/usr/lib/postgresql/${bin}/bin/psql`, ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', db, '-c', statement],
                     { encoding: 'utf8' });
}

// Holds the database's write lock from another process, as a second writer (an import, a
// backup) would: SQLite's BEGIN IMMEDIATE, or on PostgreSQL the advisory lock every ioheme write
// transaction takes first (src/store/sqldb_pg.c, WRITE_LOCK_KEY). Resolves once it is held;
// release() commits and waits for the holder to exit.
export async function holdWriteLock(db) {
    const pg = db.includes('://');
    const bin = pg ? `/usr/lib/postgresql/${fs.readdirSync('/usr/lib/postgresql').sort().pop()}/bin/psql` : 'sqlite3';
    const child = spawn(bin, pg ? ['-X', '-q', '-At', db] : [db], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise((resolve, reject) => {
        child.stdout.on('data', (b) => { out += b; if (out.includes('held')) resolve(); });
        child.on('exit', () => reject(new Error('the lock holder exited')));
        child.stdin.write(pg ? 'BEGIN; SELECT pg_advisory_xact_lock(1229932613); SELECT \'held\';\n'
                             : 'BEGIN IMMEDIATE;\nSELECT \'held\';\n');
    });
    return {
        release: async () => { child.stdin.end('COMMIT;\n'); await exited; },
    };
}

// Every byte the database holds: the file, or a PostgreSQL database's data as pg_dump writes it.
export function storedBytes(db) {
    if (!db.includes('://')) return fs.readFileSync(db);
    const bin = fs.readdirSync('/usr/lib/postgresql').sort().pop();
    const r = spawnSync(`/usr/lib/postgresql/${bin}/bin/pg_dump`, ['--data-only', db]);
    if (r.status !== 0) throw new Error(`pg_dump failed: ${r.stderr}`);
    return r.stdout;
}

export function cli(ioheme, db, args, input) {
    return run(ioheme, [...args, '--db', db], { IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin }, input);
}

export async function startServer(ioheme, db, dir, extra = [], scheme = 'http') {
    const port = await freePort();
    const log = path.join(dir, `access-${port}.log`);
    const child = spawn(ioheme, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--threads', '4',
                                 '--access-log', log, ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
    const base = `${scheme}://127.0.0.1:${port}`;
    let exited = null;
    child.on('exit', (code, sig) => { exited = { code, sig }; });
    for (let i = 0; i < 100; i++) {
        if (exited) throw new Error(`ioheme serve exited early: ${JSON.stringify(exited)}`);
        if (await listening(port)) break;
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        base, log, child,
        // SIGTERM, and the exit status (graceful shutdown must exit 0).
        stop: () => new Promise((resolve) => {
            if (exited) return resolve(exited);
            child.on('exit', (code, sig) => resolve({ code, sig }));
            child.kill('SIGTERM');
        }),
    };
}

// One HTTP call. opts: {session, json, form, headers, csrf (false to omit), raw}
export async function call(base, method, p, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    let body;
    if (opts.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.json); }
    if (opts.form !== undefined) {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        const f = { ...opts.form };
        if (opts.session && opts.csrf !== false && !('csrf' in f)) f.csrf = opts.session.csrf;
        body = new URLSearchParams(f).toString();
    }
    if (opts.raw !== undefined) body = opts.raw;
    if (opts.session) {
        if (opts.session.cookie) headers.Cookie = opts.session.cookie;
        if (opts.session.bearer) headers.Authorization = `Bearer ${opts.session.bearer}`;
        if (opts.csrf !== false && opts.session.csrf && method !== 'GET') headers['X-CSRF-Token'] = opts.session.csrf;
    }
    const res = await fetch(base + p, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, text, json };
}

// A POST to REDCap's API (/api/) with an urlencoded body: {status, headers, text, json (null
// unless JSON)}.
export async function redcapPost(base, body) {
    const res = await fetch(base + '/api/', { method: 'POST', body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* CSV, XML or text */ }
    return { status: res.status, headers: res.headers, text, json };
}

export async function login(base, user, password = PASSWORD[user]) {
    const r = await call(base, 'POST', '/api/v1/login', { json: { username: user, password } });
    if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${r.text}`);
    const cookie = r.headers.get('set-cookie').split(';')[0];
    return { cookie, csrf: r.json.csrf_token, user };
}

// A tiny test runner: named checks, a summary, exit status 1 on any failure.
export function runner(name) {
    let passed = 0, failed = 0;
    return {
        check(cond, what, detail) {
            if (cond) { passed++; return true; }
            failed++;
            console.log(`FAIL ${name}: ${what}${detail !== undefined ? ' — ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)).slice(0, 400) : ''}`);
            return false;
        },
        done() {
            console.log(`${name}: ${passed} checks passed, ${failed} failed`);
            process.exitCode = failed ? 1 : 0;
        },
        get failed() { return failed; },
    };
}

// The screening values of an eligible patient (all criteria answered, none excluding).
export const ELIGIBLE = {
    scr_date: '2026-11-20', scr_by: '3', age: '45', sex: '2', heme_disease: '1', heme_dx: '1',
    qual_cat1___1: '1', qual_cat2___0: '1', qual_cat3___0: '1', qual_cat4___0: '1', qual_cat5___0: '1',
    scr_site_plan: '2', ci_fracture: '0', ci_prosthesis: '0', ci_recent_io: '0', ci_skin: '0',
    ci_landmarks: '0', ci_osteoporosis: '0', ci_oi: '0', scr_consent: '1',
};
