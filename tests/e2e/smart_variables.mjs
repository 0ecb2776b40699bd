// REDCap smart variables on a live study: a copy of the io-heme protocol gains two fields on the
// haemodynamics form — a note whose branching logic is [event-name] = 't24h_arm_1', and a calc
// concat([record-name], '@', [event-name], '#', [current-instance]) — and the database made from
// it behaves as REDCap: the note is refused where its logic hides it (6 h) and saved where it
// shows (24 h), the calc holds the record and event it was computed at, and each form page
// hands the browser the smart variables' values there (data-smart, read by form.js).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, call, login, runner, studyDb, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('smart_variables');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioheme-smart-'));
const proto = path.join(dir, 'protocol');
fs.cpSync(path.join(SRC, 'protocols/io-heme'), proto, { recursive: true });
// the two fields go right after the haemodynamics form's last field (a form's fields stay together)
const lines = fs.readFileSync(path.join(proto, 'dictionary.csv'), 'utf8').split('\n');
let last = -1;
lines.forEach((l, i) => { if (/^[a-z0-9_]+,haemodynamics,/.test(l)) last = i; });
lines.splice(last + 1, 0,
    'hd_t24_note,haemodynamics,,notes,Only at 24 h,,,,,,,"[event-name] = \'t24h_arm_1\'",,,,,,',
    'hd_where,haemodynamics,,calc,Where,"concat([record-name], \'@\', [event-name], \'#\', [current-instance])",,,,,,,,,,,,',
    // the heart rate's change since the event before: [previous-event-name] standing for the event
    'hd_hr_delta,haemodynamics,,calc,HR change,"// since the time point before\n[hd_hr] - [previous-event-name][hd_hr]",,,,,,,,,,,,');
fs.writeFileSync(path.join(proto, 'dictionary.csv'), lines.join('\n'));
const db = studyDb(dir);
function ioheme(args, input) {
    return spawnSync(IOHEME, [...args, '--db', db],
        { env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin }, input, encoding: 'utf8' });
}
let c = spawnSync(IOHEME, ['protocol', 'check', proto], { encoding: 'utf8' });
t.check(c.status === 0, 'the protocol with smart variables checks', c.stderr);
c = spawnSync(IOHEME, ['init', '--db', db, '--admin', 'admin', '--protocol', proto, '--synthetic'],
    { env: { ...process.env, IOHEME_PASSWORD: PASSWORD.admin }, encoding: 'utf8' });
t.check(c.status === 0, 'a database made from it', c.stderr);
c = ioheme(['simulate', '--patients', '1', '--seed', '5']);
t.check(c.status === 0, 'one simulated patient', c.stderr);

c = ioheme(['set', 'IOH-001', 't6h', 'hd_t24_note=seen', '--reason', 'test']);
t.check(c.status !== 0 && /hd_t24_note/.test(c.stderr) && /hidden|branching/.test(c.stderr),
    'the note is refused at 6 h, where [event-name] hides it', c.stderr);
c = ioheme(['set', 'IOH-001', 't24h', 'hd_t24_note=seen', '--reason', 'test']);
t.check(c.status === 0, 'and saved at 24 h', c.stderr);
for (const [ev, hr] of [['t6h', '80'], ['t24h', '95']]) {
    c = ioheme(['set', 'IOH-001', ev, 'hd_status=1', `hd_hr=${hr}`, '--reason', 'test']);
    t.check(c.status === 0, `heart rate ${hr} at ${ev}`, c.stderr);
}
const show = JSON.parse(ioheme(['show', 'IOH-001', '--json']).stdout);
const at = (ev) => show.events.find((e) => e.event === ev)?.forms.find((f) => f.form === 'haemodynamics')?.values;
t.check(at('t24h_arm_1').hd_hr_delta === '15', 'the calc reads [previous-event-name][hd_hr]: 95 at 24 h less 80 at 6 h', at('t24h_arm_1'));
t.check(at('t24h_arm_1').hd_where === 'IOH-001@t24h_arm_1#', 'the calc holds the record and event it was computed at (no instance: the form does not repeat)', at('t24h_arm_1').hd_where);

spawnSync(IOHEME, ['user', 'add', 'coordinator', '--role', 'coordinator', '--db', db],
    { env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin }, input: PASSWORD.coordinator + '\n' });
const srv = await startServer(IOHEME, db, dir);
try {
    const nurse = await login(srv.base, 'coordinator');
    const page = await call(srv.base, 'GET', '/records/IOH-001/forms/t6h_arm_1/haemodynamics', { session: nurse });
    const m = /data-smart="([^"]*)"/.exec(page.text);
    const smart = m ? JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&#39;/g, "'")) : null;
    t.check(smart && smart['event-name'] === 't6h_arm_1' && smart['record-name'] === 'IOH-001' &&
            smart['previous-event-name'] === 't60min_arm_1' && smart['next-event-name'] === 't24h_arm_1' &&
            smart['first-event-name'] === 'screening_arm_1' && smart['last-event-name'] === 'end_of_study_arm_1' &&
            !('current-instance' in smart), 'the form page gives the browser the smart variables there', m && m[1]);
    const js = await call(srv.base, 'GET', '/forms/haemodynamics/logic.js', { session: nurse });
    t.check(js.status === 200 && js.text.includes('L.v(null,"event-name",null)') && js.text.includes('L.v(null,"record-name",null)') &&
            js.text.includes('L.v("previous-event-name","hd_hr",null)'),
        'the form\'s logic for the browser asks form.js for the smart variables', js.text.slice(0, 200));
} finally {
    await srv.stop();
}
fs.rmSync(dir, { recursive: true, force: true });
t.done();
