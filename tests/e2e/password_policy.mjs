// The password policy (P11-02) and role changes (P11-06) through the CLI, the API and the
// sign-in page: the admin sets a maximum age and a history; a password past its age (aged here
// by moving its set date back in the database file, as time would) signs in nowhere but to
// change itself — the API answers 403 password_expired, the page asks for a new password twice,
// the CLI refuses every command but `user passwd` of oneself; a reused password is refused; the
// admin changes a user's role, audited; the chain verifies.
import { spawnSync } from 'node:child_process';
import { makeDb, startServer, call, cli, runner, sql, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('password_policy');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

function ioheme(who, password, args, input) {
    return spawnSync(IOHEME, [...args, '--db', db],
        { env: { ...process.env, IOHEME_USER: who, IOHEME_PASSWORD: password }, input, encoding: 'utf8' });
}
// Ages every password of user by moving the date it was set back a year (SQL on the database:
// what 365 days would do).
function age(user) {
    const r = sql(db, `UPDATE "user" SET password_set_at = '2025-01-01T00:00:00.000Z' WHERE name = '${user}'`);
    if (r.status !== 0) throw new Error(r.stderr);
}

try {
    let out = cli(IOHEME, db, ['user', 'policy', '--json']);
    t.check(JSON.parse(out).max_age_days === 0 && JSON.parse(out).history === 5, 'default policy: never expires, 5 remembered', out);
    let c = ioheme('coordinator', PASSWORD.coordinator, ['user', 'policy', '--max-age', '90']);
    t.check(c.status !== 0 && /user_manage|may not/.test(c.stderr), 'a coordinator may not set the policy', c.stderr);
    out = cli(IOHEME, db, ['user', 'policy', '--max-age', '90', '--history', '3', '--reason', 'SOP-IT-12', '--json']);
    t.check(JSON.parse(out).max_age_days === 90, 'the admin sets 90 days and 3 passwords', out);
    c = ioheme('admin', PASSWORD.admin, ['user', 'policy', '--history', '99']);
    t.check(c.status !== 0 && /history/.test(c.stderr), 'a history out of range is refused', c.stderr);

    // composition and reuse
    c = ioheme('admin', PASSWORD.admin, ['user', 'add', 'nurse2', '--role', 'coordinator'], 'abcdefghijk\n');
    t.check(c.status !== 0 && /two kinds/.test(c.stderr), 'a one-kind password is refused', c.stderr);
    c = ioheme('coordinator', PASSWORD.coordinator, ['user', 'passwd', 'coordinator'], `${PASSWORD.coordinator}\n`);
    t.check(c.status !== 0 && /last 3 passwords/.test(c.stderr), 'the current password cannot be set again', c.stderr);

    // expiry: API
    age('coordinator');
    let r = await call(B, 'POST', '/api/v1/login', { json: { username: 'coordinator', password: PASSWORD.coordinator } });
    t.check(r.status === 403 && r.json.error.code === 'password_expired', 'API sign-in with an expired password: 403 password_expired', r.text);
    r = await call(B, 'POST', '/api/v1/login', { json: { username: 'coordinator', password: 'wrong-pass-1' } });
    t.check(r.status === 401, 'a wrong password is still just a failed sign-in (401)', r.text);
    r = await call(B, 'POST', '/api/v1/login', { json: { username: 'coordinator', password: PASSWORD.coordinator, new_password: PASSWORD.coordinator } });
    t.check(r.status === 422 && r.json.error.field === 'password', 'renewing with the same password is refused (422)', r.text);
    r = await call(B, 'POST', '/api/v1/login', { json: { username: 'coordinator', password: PASSWORD.coordinator, new_password: 'renewed-pass-1' } });
    t.check(r.status === 200 && r.json.user.username === 'coordinator', 'renewed at sign-in and signed in', r.text);
    PASSWORD.coordinator = 'renewed-pass-1';

    // expiry: the sign-in page
    age('monitor');
    let page = await call(B, 'POST', '/login', { form: { username: 'monitor', password: PASSWORD.monitor } });
    t.check(page.status === 403 && /has expired/.test(page.text) && /name="new_password2"/.test(page.text), 'the page asks an expired user for a new password, twice', page.status);
    page = await call(B, 'POST', '/login', { form: { username: 'monitor', password: PASSWORD.monitor, new_password: 'monitor-new-1', new_password2: 'monitor-new-2' } });
    t.check(page.status === 422 && /differ/.test(page.text) && /name="new_password2"/.test(page.text), 'two different new passwords are refused, and asked again', page.status);
    page = await call(B, 'POST', '/login', { form: { username: 'monitor', password: PASSWORD.monitor, new_password: 'monitor-new-1', new_password2: 'monitor-new-1' } });
    t.check(page.status === 303 && page.headers.get('location') === '/' && /ioheme_session|session/i.test(page.headers.get('set-cookie') || ''), 'changed and signed in from the page', page.status);

    // expiry: the CLI
    age('investigator');
    c = ioheme('investigator', PASSWORD.investigator, ['show', 'SCR-001']);
    t.check(c.status !== 0 && /expired/.test(c.stderr) && /ioheme user passwd investigator/.test(c.stderr), 'an expired CLI user is told how to renew', c.stderr);
    c = ioheme('investigator', PASSWORD.investigator, ['user', 'passwd', 'investigator'], 'invest-new-pass-1\n');
    t.check(c.status === 0, 'and renews with `user passwd` of themselves', c.stderr);
    c = ioheme('investigator', 'invest-new-pass-1', ['user', 'passwd', 'monitor'], 'whatever-pass-1\n');
    t.check(c.status !== 0, 'but may not change someone else\'s', c.stderr);

    // role change
    c = ioheme('admin', PASSWORD.admin, ['user', 'role', 'statistician', 'data_manager']);
    t.check(c.status !== 0 && /reason/.test(c.stderr), 'a role change needs a reason', c.stderr);
    out = cli(IOHEME, db, ['user', 'role', 'statistician', 'data_manager', '--reason', 'took over data management']);
    t.check(/now has the role data_manager/.test(out), 'the admin changes a role', out);
    const trail = cli(IOHEME, db, ['audit', 'export']);
    t.check(/,user_role,,,,user,statistician: statistician,statistician: data_manager,took over data management,/.test(trail), 'the role change is audited, old and new', trail.split('\n').filter((l) => /user_role/.test(l)));
    t.check(/,password_policy,,,,user,max_age_days=0 history=5,max_age_days=90 history=3,SOP-IT-12,/.test(trail), 'the policy change is audited', trail.split('\n').filter((l) => /password_policy/.test(l)));
    t.check(!trail.includes('renewed-pass-1') && !trail.includes('monitor-new-1'), 'no password in the trail');
    t.check(/ok|verified|intact/i.test(cli(IOHEME, db, ['audit', 'verify'])), 'the audit chain verifies');
} finally {
    await srv.stop();
}
t.done();
