// A protocol folder with another target enrolment, another schedule anchor and other offsets
// changes the dashboard with no C change: a copy of protocols/io-heme whose study.csv says 30
// patients, anchored on the EARLIEST decision time (io-heme: the puncture, else the first
// placement's decision), and whose schedule.csv puts "T0 + 6 h" at 2 h (window 30 min after)
// and "Day 7" at 2 days. Run by dashboard_protocol.sh under ctest.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, call, login, runner, studyDb, ELIGIBLE, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('dashboard_protocol');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioheme-proto-'));
const proto = path.join(dir, 'other-study');
fs.cpSync(path.join(SRC, 'protocols/io-heme'), proto, { recursive: true });
fs.writeFileSync(path.join(proto, 'study.csv'),
                 'key,value\ntarget_enrolment,30\nanchor_field,iop_decision_dt\nanchor_rule,earliest\n');
fs.writeFileSync(path.join(proto, 'schedule.csv'),
                 'unique_event_name,due_min,window_before_min,window_after_min\n' +
                 't6h_arm_1,120,0,30\nday7_arm_1,2880,0,1440\n');

const run = (args) => spawnSync(IOHEME, args, { encoding: 'utf8', env: { ...process.env, IOHEME_PASSWORD: PASSWORD.admin } });
let p = run(['protocol', 'check', proto]);
t.check(p.status === 0, 'protocol check accepts the modified folder', p.stderr);
const db = studyDb(dir);
p = run(['init', '--db', db, '--admin', 'admin', '--protocol', proto]);
t.check(p.status === 0, 'ioheme init --protocol DIR', p.stderr);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;

// "YYYY-MM-DD HH:MM:SS" h hours ago, as the clock reads in UTC (this study sets no site time
// zone, so its site time is UTC)
const ago = (h) => new Date(Date.now() - h * 3600e3).toISOString().slice(0, 19).replace('T', ' ');
const plusMin = (s, m) => new Date(Date.parse(s.replace(' ', 'T') + 'Z') + m * 60e3).toISOString().slice(0, 16).replace('T', ' ');

try {
    const admin = await login(B, 'admin');
    let page = await call(B, 'GET', '/', { session: admin });
    t.check(page.text.includes('<span id="enrolled">0</span> / 30') && page.text.includes('<progress max="30" value="0"'),
            'dashboard: the target enrolment comes from study.csv', page.text.slice(0, 600));
    let r = await call(B, 'POST', '/api/v1/screening', { session: admin, json: { values: ELIGIBLE } });
    t.check(r.status === 201, 'screened', r.text);
    r = await call(B, 'POST', `/api/v1/records/${r.json.record}/enrol`, { session: admin, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
    t.check(r.status === 200, 'enrolled', r.text);
    const ID = r.json.study_id;
    // two placements: the earlier decision is instance 2's, 50 h ago; io-heme would use
    // instance 1's (3 h ago) and have no Day 7 due
    const early = ago(50);
    for (const [instance, when] of [[1, ago(3)], [2, early]]) {
        r = await call(B, 'POST', `/api/v1/records/${ID}/values`, { session: admin, json: { event: 'io_procedure_arm_1', instance, values: { iop_decision_dt: when } } });
        t.check(r.status === 200, `decision time of placement ${instance} saved`, r.text);
    }
    page = await call(B, 'GET', '/', { session: admin });
    t.check(page.text.includes('<span id="enrolled">1</span> / 30'), 'dashboard: 1 / 30 enrolled');
    const tbody = /<table class="list" id="due">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(page.text);
    const rows = tbody ? tbody[1].split('<tr').slice(1) : [];
    const row = (label) => rows.find((x) => x.includes(`>${ID}<`) && x.includes(label)) || '';
    // T0 + 6 h at anchor + 120 min; its window closed 30 min later, 47.5 h ago: overdue
    t.check(row('T0 + 6 h').includes(`${plusMin(early, 120)} (overdue)`),
            'dashboard: "T0 + 6 h" falls due at schedule.csv\'s 120 min after the earliest decision, overdue after its 30 min window',
            rows.join('\n').slice(0, 800));
    // Day 7 at anchor + 2 days (2 h ago), window 1 day: due, not overdue
    t.check(row('Day 7').includes(`${plusMin(early, 2880)}<`),
            'dashboard: "Day 7" falls due at schedule.csv\'s 2 days, not yet overdue', rows.join('\n').slice(0, 800));
    t.check(!row('Day 28'), 'dashboard: Day 28 (events.csv\'s 28 days) is not due');
    // the report takes its target from the same study.csv
    const rep = spawnSync(IOHEME, ['report', '--db', db, '--out', path.join(dir, 'report')],
                          { env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin }, encoding: 'utf8' });
    const results = rep.status === 0 ? JSON.parse(fs.readFileSync(path.join(dir, 'report', 'results.json'), 'utf8')) : {};
    t.check(results.status && results.status.target === 30, 'report: the target enrolment comes from study.csv',
            rep.stderr || (results.status && results.status.target));
} finally {
    const ex = await srv.stop();
    t.check(ex.code === 0, 'server exits 0 on SIGTERM', ex);
    fs.rmSync(dir, { recursive: true, force: true });
    t.done();
}
