// Run by pg_commit_lost.sh, with IOHEME_TEST_PG naming a cluster of this test's own. Every
// commit is made to wait for a synchronous standby that does not exist (ALTER SYSTEM: the whole
// cluster), and the session of the save that waits is terminated: PostgreSQL keeps the commit
// (it is already in its WAL) but nobody tells the client. That is the failover case where the
// primary dies between writing a COMMIT and answering it.
import { spawn, spawnSync } from 'node:child_process';
import { makeDb, startServer, call, login, runner, sql, ELIGIBLE, PASSWORD } from '../e2e/http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('pg_commit_lost');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;
const ok = (r, what) => { if (r.status !== 0) throw new Error(`${what}: ${r.stderr}`); return r.stdout.trim(); };
const holdCommits = (on) => {
    ok(sql(db, `ALTER SYSTEM SET synchronous_standby_names = '${on ? 'nobody' : ''}'`), 'ALTER SYSTEM');
    ok(sql(db, 'SELECT pg_reload_conf()'), 'reload');
};
// Terminates the session whose COMMIT waits for the standby; false when none came in 10 s.
async function cutTheWaitingCommit() {
    for (let i = 0; i < 200; i++) {
        const n = ok(sql(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"), 'terminate');
        if (n !== '0') return true;
        await new Promise((r) => setTimeout(r, 50));
    }
    return false;
}
const hr = async (s) => (await call(B, 'GET', '/api/v1/records/IOH-001/forms/haemodynamics?event=t0_arm_1', { session: s })).json.values.hd_hr;

try {
    const nurse = await login(B, 'coordinator');
    let r = await call(B, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: nurse, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'fixture: IOH-001 enrolled', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 't0_arm_1', values: { hd_status: 1, hd_hr: 80 } } });
    t.check(r.status === 200, 'a save before: 200', r.text);

    // the API: the save's COMMIT waits for the standby, its session is cut
    holdCommits(true);
    const pending = call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 't0_arm_1', values: { hd_hr: 91 } } });
    t.check(await cutTheWaitingCommit(), 'the save\'s COMMIT waits for the standby, and its session is terminated');
    r = await pending;
    holdCommits(false);
    t.check(r.status === 503 && r.json && r.json.error.code === 'outcome_unknown',
        'the API answers 503 with the code outcome_unknown (not busy)', r.text);
    t.check(r.json && /not known/.test(r.json.error.message) && !/nothing was saved/.test(r.json.error.message),
        'its message says whether it was saved is not known, and does not say nothing was saved', r.text);
    t.check(r.headers.get('retry-after') === '2', 'with Retry-After: 2', r.headers.get('retry-after'));
    t.check(await hr(nurse) === '91', 'the value is stored after all: "nothing was saved" would have been false', await hr(nurse));
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 't0_arm_1', values: { hd_hr: 91 } } });
    t.check(r.status === 200 && r.json.changed === 0 && r.json.unchanged === 1, 'sending it again, as the message says after reading it back: 200, nothing changed', r.text);
    r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event: 't0_arm_1', values: { hd_hr: 92 } } });
    t.check(r.status === 200, 'the server saves again without a restart', r.text);

    // the command line: the same, exit status 16
    holdCommits(true);
    const cli = spawn(IOHEME, ['set', 'IOH-001', 't0', 'hd_hr=93', '--db', db],
        { env: { ...process.env, IOHEME_USER: 'coordinator', IOHEME_PASSWORD: PASSWORD.coordinator } });
    let stderr = '';
    cli.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((res) => cli.on('close', (code) => res(code)));
    t.check(await cutTheWaitingCommit(), 'ioheme set: its COMMIT waits, and its session is terminated');
    const code = await exited;
    holdCommits(false);
    t.check(code === 16 && /not known/.test(stderr), 'ioheme set exits 16 saying whether it was stored is not known', `${code} ${stderr}`);
    // (the cut commit may be its sign-in's audit row or the value's: either way not known)
    const again = spawnSync(IOHEME, ['set', 'IOH-001', 't0', 'hd_hr=93', '--db', db],
        { env: { ...process.env, IOHEME_USER: 'coordinator', IOHEME_PASSWORD: PASSWORD.coordinator }, encoding: 'utf8' });
    t.check(again.status === 0 && await hr(nurse) === '93', 'run again, it saves', again.stderr);
    const v = spawnSync(IOHEME, ['audit', 'verify', '--db', db], { env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin }, encoding: 'utf8' });
    t.check(v.status === 0 && /intact/.test(v.stdout), 'the audit chain verifies', v.stdout + v.stderr);
} catch (err) {
    t.check(false, 'no exception', err.stack);
} finally {
    try { holdCommits(false); } catch { /* the cluster may be gone */ }
    await srv.stop();
    t.done();
}
