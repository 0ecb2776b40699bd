// REDCap's API while another writer holds the database (SQLite: a second process inside a write
// transaction, as an import from the CLI is): past the server's --busy-wait an import is answered
// 503 with Retry-After and an error in REDCap's shape ({"error": …}, as redcapAPI and REDCapR read
// it, and retry), not a 400 or a 500, and nothing is saved; once the writer is done the same
// call succeeds. A read is not held up by the writer (SQLite's WAL). A refused call is audited,
// so while the writer holds the database its refusal is a 503 as well (it was a 403 carrying the
// database's message).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeDb, startServer, call, login, runner, sql, redcapPost } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('redcap_busy');
const proto = fs.mkdtempSync('/tmp/ioheme-busy-');
fs.copyFileSync(path.join(SRC, 'tests/fixtures/redcap-corpus/rr-simple/dictionary.csv'), path.join(proto, 'dictionary.csv'));
const { dir, db } = makeDb(IOHEME, SRC, { protocol: proto });
const srv = await startServer(IOHEME, db, dir, ['--busy-wait', '200']);
const B = srv.base;
const api = (body) => redcapPost(B, body);
const enc = encodeURIComponent;
const nrecords = () => Number(sql(db, 'SELECT count(*) FROM record').stdout.trim());

// a writer in another process: BEGIN IMMEDIATE, held until its stdin closes
function holdWriteLock() {
    const p = spawn('python3', ['-c', `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute('BEGIN IMMEDIATE')
print('held', flush=True)
sys.stdin.read()
c.execute('ROLLBACK')
`, db], { stdio: ['pipe', 'pipe', 'inherit'] });
    return new Promise((resolve) => p.stdout.once('data', () => resolve(p)));
}

try {
    const s = await login(B, 'coordinator');
    let r = await call(B, 'POST', '/api/v1/tokens', { session: s, json: { format: 'redcap' } });
    const T = r.json.token;
    const body = `token=${T}&content=record&format=json&data=${enc(JSON.stringify([{ record_id: '1', age: '31' }]))}`;
    // a data manager may not enter data: a refusal, audited (P11-05) — a write the writer holds up
    const sd = await login(B, 'data_manager');
    r = await call(B, 'POST', '/api/v1/tokens', { session: sd, json: { format: 'redcap' } });
    const refusedBody = body.replace(T, r.json.token);

    const writer = await holdWriteLock();
    r = await api(body);
    t.check(r.status === 503 && r.headers.get('retry-after') && typeof r.json?.error === 'string' &&
            Object.keys(r.json).length === 1, 'held by another writer: 503, Retry-After, {"error": …}',
            `${r.status} ${r.headers.get('retry-after')} ${r.text}`);
    t.check(!/sqlite|SQL|database is locked/i.test(r.text), 'the answer names no database internals', r.text);
    r = await api(`${body}&returnFormat=csv`);
    t.check(r.status === 503 && /^ERROR: /.test(r.text), 'returnFormat=csv: the same refusal as "ERROR: …"', r.text);
    r = await api(refusedBody);
    t.check(r.status === 503 && r.headers.get('retry-after'), 'a refusal whose audit row is held up: 503, not 403 with a database message',
            `${r.status} ${r.text}`);
    r = await api(`token=${T}&content=version`);
    t.check(r.status === 200, 'a read is answered meanwhile', `${r.status} ${r.text}`);
    writer.stdin.end();
    await new Promise((resolve) => writer.once('exit', resolve));
    t.check(nrecords() === 0, 'nothing saved by the refused calls');

    r = await api(refusedBody);
    t.check(r.status === 403 && /may not enter or change data/.test(r.json?.error), 'the writer gone, the refusal is 403', `${r.status} ${r.text}`);
    r = await api(body);
    t.check(r.status === 200 && r.json?.count === 1 && nrecords() === 1, 'the writer gone, the same call imports', r.text);
} catch (err) {
    t.check(false, 'unexpected error', String(err && err.stack || err));
} finally {
    await srv.stop();
    fs.rmSync(proto, { recursive: true, force: true });
}
t.done();
