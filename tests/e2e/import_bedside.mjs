// An import must not make bedside saves fail (hardening defect 5). While `ioheme import` writes
// thousands of rows in its one all-or-nothing transaction, nurses keep saving through the API:
//  - with the server's default wait, every save waits its turn and succeeds (200);
//  - with a wait shorter than the import (--busy-wait 50), a save may be refused, but only as
//    503 with Retry-After and a JSON error saying nothing was saved — never a 500;
// and the import itself is complete. Run by import_bedside.sh under ctest; loopback only.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeDb, cli, startServer, call, login, runner, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('import_bedside');
const { dir, db } = makeDb(IOHEME, SRC, { synthetic: true });

// 300 synthetic patients to import into, and a CSV of ROWS rows over the haemodynamic time
// points they were assessed at (values varying so each row writes), 8 fields each. Only time
// points whose assessment was done, where branching logic shows these fields, and not T0, 6 h
// or 24 h, whose values feed the efficacy grade: changing it could hide the investigator's
// explanation of a differing grade (the write path refuses a change that hides a value).
cli(IOHEME, db, ['simulate', '--patients', '300', '--seed', '7']);
const EVENT_OF = { T0: 't0_arm_1', '15min': 't15min_arm_1', '30min': 't30min_arm_1', '60min': 't60min_arm_1', '6h': 't6h_arm_1', '24h': 't24h_arm_1' };
cli(IOHEME, db, ['dataset', '--out', path.join(dir, 'ds')]);
const DONE = fs.readFileSync(path.join(dir, 'ds', 'haemodynamics.csv'), 'utf8').trim().split('\n').slice(1)
    .map((l) => l.split(',')).filter((c) => c[3] === 'done' && c[0] !== 'IOH-001' && ['15min', '30min', '60min'].includes(c[1])).map((c) => [c[0], EVENT_OF[c[1]]]);
// 6,000 rows on SQLite; 1,000 on PostgreSQL, where a row costs more (a round trip per statement):
// "every save waits its turn" holds for an import shorter than the server's wait (15 s), and
// 6,000 rows there approach it in the sanitizer build (2,000 exceeded it once on a machine
// whose two CPUs ran other tests too). Either size spans many saves.
const ROWS = process.env.IOHEME_TEST_PG ? 1000 : 6000;
const COLS = ['hd_sbp', 'hd_dbp', 'hd_hr', 'hd_rr', 'hd_spo2', 'hd_uo', 'hd_lactate', 'hd_fluid_since'];
function csv(rows, shift) {
    const out = ['record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,' + COLS.join(',')];
    for (let i = 0; i < rows; i++) {
        const [rec, ev] = DONE[i % DONE.length];
        const k = (i + shift) % 40;
        out.push(`${rec},${ev},,,${100 + k},${60 + k},${70 + k},${12 + (k % 10)},${90 + (k % 10)},${k * 10},${(1 + k / 10).toFixed(1)},${k * 5}`);
    }
    return out.join('\n') + '\n';
}

// Runs `ioheme import` in the background; resolves with its exit status and output.
function importAsync(file) {
    return new Promise((resolve) => {
        const child = spawn(IOHEME, ['import', file, '--db', db, '--reason', 'bulk correction from the lab system'],
                            { env: { ...process.env, IOHEME_USER: 'admin', IOHEME_PASSWORD: PASSWORD.admin } });
        let out = '', err = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { err += d; });
        child.on('close', (code) => resolve({ code, out, err }));
    });
}

// Saves on IOH-001 in a loop until stop() — a nurse at the bedside, one save after another.
function saver(base, session) {
    const statuses = [];
    let running = true, n = 0;
    const done = (async () => {
        while (running) {
            const r = await call(base, 'POST', '/api/v1/records/IOH-001/values', {
                session, json: { event: 't15min_arm_1', values: { hd_hr: String(60 + (n++ % 50)) }, reason: 'bedside' } });
            statuses.push({ status: r.status, retry: r.headers.get('retry-after'), code: r.json && r.json.error && r.json.error.code,
                            message: r.json && r.json.error && r.json.error.message });
        }
    })();
    return { statuses, stop: async () => { running = false; await done; } };
}

async function round(label, extra, shift) {
    const srv = await startServer(IOHEME, db, dir, extra);
    try {
        const nurse = await login(srv.base, 'coordinator');
        const file = path.join(dir, `import-${shift}.csv`);
        fs.writeFileSync(file, csv(ROWS, shift));
        const s = saver(srv.base, nurse);
        await new Promise((r) => setTimeout(r, 200));
        const imp = await importAsync(file);
        await new Promise((r) => setTimeout(r, 200));
        await s.stop();
        t.check(imp.code === 0 && imp.out.includes(`${ROWS} rows`), `${label}: the import is complete`, imp.out + imp.err);
        t.check(s.statuses.length > 3, `${label}: saves went on during the import (${s.statuses.length})`);
        t.check(!s.statuses.some((x) => x.status >= 500 && x.status !== 503), `${label}: no save answered 500`, s.statuses.filter((x) => x.status >= 500));
        const refused = s.statuses.filter((x) => x.status === 503);
        t.check(refused.every((x) => x.retry === '2' && x.code === 'busy' && /nothing was saved/.test(x.message)),
                `${label}: a refused save is 503 busy with Retry-After`, refused[0]);
        t.check(s.statuses.every((x) => x.status === 200 || x.status === 503), `${label}: every save is 200 or 503`,
                [...new Set(s.statuses.map((x) => x.status))]);
        console.log(`${label}: ${s.statuses.length} saves, ${refused.length} told to retry`);
        return { refused: refused.length, ok: s.statuses.filter((x) => x.status === 200).length };
    } finally {
        const st = await srv.stop();
        t.check(st.code === 0, `${label}: graceful stop`, st);
    }
}

try {
    const waiting = await round('default wait', [], 0);
    t.check(waiting.refused === 0 && waiting.ok > 0, `default wait: every save waited its turn and succeeded (${waiting.ok} ok)`, waiting);
    const short = await round('--busy-wait 50', ['--busy-wait', '50'], 17);
    t.check(short.ok > 0, `--busy-wait 50: saves succeeded before and after the import (${short.ok} ok, ${short.refused} told to retry)`, short);
    const verify = cli(IOHEME, db, ['audit', 'verify']);
    t.check(/intact/.test(verify), 'audit chain intact after imports under load', verify);
} catch (e) {
    t.check(false, 'unexpected exception', e.stack);
} finally {
    fs.rmSync(dir, { recursive: true, force: true });
    t.done();
}
