// Several servers on one study (issue 15, on the SQLite backend): two `ioheme serve` processes
// on the same database file. A session signed in on one is valid on the other, a save through
// one is read through the other at once, and revocation is immediate everywhere: a user the
// admin disables through server B is refused by server A on its very next request, as is a
// session signed out on B. A restarted server accepts the tokens it issued before.
import { makeDb, startServer, call, login, runner, ELIGIBLE } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('two_servers');
const { dir, db } = makeDb(IOHEME, SRC);
const A = await startServer(IOHEME, db, dir), B = await startServer(IOHEME, db, dir);
try {
    const nurse = await login(A.base, 'coordinator');
    let r = await call(B.base, 'GET', '/api/v1/me', { session: nurse });
    t.check(r.status === 200 && r.json.user.username === 'coordinator' && r.json.csrf_token === nurse.csrf,
        'a session from server A is valid on server B, with the same CSRF token', r.text);
    r = await call(B.base, 'POST', '/api/v1/screening', { session: nurse, json: { values: ELIGIBLE } });
    t.check(r.status === 201, 'a save through B with A\'s session', r.text);
    const rec = r.json && r.json.record;
    r = await call(A.base, 'GET', `/api/v1/records/${rec}`, { session: nurse });
    t.check(r.status === 200 && r.json.record === rec, 'read back at once through A', r.text);

    const admin = await login(B.base, 'admin');
    r = await call(B.base, 'POST', '/api/v1/users/coordinator/disable', { session: admin });
    t.check(r.status === 200, 'the admin disables the coordinator through B', r.text);
    r = await call(A.base, 'GET', '/api/v1/me', { session: nurse });
    t.check(r.status === 401, 'A refuses the disabled user\'s session on its next request', r.status);

    const mon = await login(A.base, 'monitor');
    r = await call(B.base, 'POST', '/api/v1/logout', { session: mon });
    t.check(r.status === 200 || r.status === 204, 'the monitor signs out on B', r.text);
    r = await call(A.base, 'GET', '/api/v1/me', { session: mon });
    t.check(r.status === 401, 'and the session is gone on A too', r.status);

    // a restarted server keeps accepting the sessions' CSRF tokens (the key is the database's)
    await A.stop();
    const A2 = await startServer(IOHEME, db, dir);
    r = await call(A2.base, 'POST', '/api/v1/screening', { session: admin, json: { values: ELIGIBLE } });
    t.check(r.status === 201, 'a save through a restarted server with a session and token from B', r.text);
    await A2.stop();
} finally {
    await A.stop().catch(() => {});
    await B.stop();
}
t.done();
