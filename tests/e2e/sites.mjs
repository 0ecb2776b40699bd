// Sites of a multi-centre study on every door (issue 15): an admin adds sites A and B and puts
// the coordinator at A and the monitor at B; records are created at the creator's site (or the
// one named); each limited user lists, reads and changes only their site's records through the
// API, the web pages, the CLI and the exports (another site's record is 404/"no record" as if it
// did not exist, writes included); a study-wide admin sees all and narrows a report to one site
// with --site; moving a record is audited with its reason; the actions on the whole study are
// refused to a limited user; the audit chain verifies.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeDb, startServer, call, login, cli, runner, ELIGIBLE, PASSWORD } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('sites');
const { dir, db } = makeDb(IOHEME, SRC);

// The CLI as user `who`, without throwing: { status, stdout, stderr }.
function ioheme(who, args) {
    return spawnSync(IOHEME, [...args, '--db', db],
        { env: { ...process.env, IOHEME_USER: who, IOHEME_PASSWORD: PASSWORD[who] }, encoding: 'utf8' });
}

cli(IOHEME, db, ['site', 'add', 'A', '--name', 'Hospital A']);
cli(IOHEME, db, ['site', 'add', 'B', '--name', 'Hospital B']);
let c = ioheme('admin', ['site', 'add', 'a', '--name', 'again']);
t.check(c.status !== 0 && /exists/.test(c.stderr), 'a site code is unique whatever the case', c.stderr);
c = ioheme('coordinator', ['site', 'add', 'C', '--name', 'Hospital C']);
t.check(c.status !== 0 && /denied|may not|permission/i.test(c.stderr), 'a coordinator may not add a site', c.stderr);
c = ioheme('admin', ['user', 'sites', 'coordinator', 'A']);
t.check(c.status !== 0 && /reason/.test(c.stderr), 'changing where a user works needs a reason', c.stderr);
cli(IOHEME, db, ['user', 'sites', 'coordinator', 'A', '--reason', 'works at A']);
cli(IOHEME, db, ['user', 'sites', 'monitor', 'B', '--reason', 'monitors B']);
cli(IOHEME, db, ['user', 'sites', 'data_manager', 'A', '--reason', 'site data manager']);

const srv = await startServer(IOHEME, db, dir);
const B = srv.base;
let recA, recB, recBScr, recNone;
try {
    const admin = await login(B, 'admin'), nurse = await login(B, 'coordinator'), mon = await login(B, 'monitor');
    const screen = (s, extra = {}) => call(B, 'POST', '/api/v1/screening', { session: s, json: { values: ELIGIBLE, ...extra } });
    let r = await screen(nurse);
    t.check(r.status === 201 && r.json.site === 'A', 'the coordinator of A screens: the record is at A', r.text);
    recA = r.json.record;
    r = await screen(nurse, { site: 'B' });
    t.check(r.status === 403 && r.json.error.field === 'site', "screening at another site is refused (403, field site)", r.text);
    r = await screen(admin, { site: 'B' });
    t.check(r.status === 201 && r.json.site === 'B', 'the admin screens at B', r.text);
    recB = recBScr = r.json.record;
    r = await screen(admin);
    t.check(r.status === 201 && r.json.site === null, 'a study-wide admin may screen without a site', r.text);
    recNone = r.json.record;

    // enrolled at both sites, for SDV progress by site below
    for (const [s, rec] of [[nurse, recA], [admin, recB]]) {
        r = await call(B, 'POST', `/api/v1/records/${rec}/enrol`, { session: s, json: { values: { cons_type: '1', cons_dt: '2026-11-20 10:00' } } });
        t.check(r.status === 200 && r.json.site, `${rec} enrolled at its site`, r.text);
    }
    recA = (await call(B, 'GET', `/api/v1/records/${recA}`, { session: nurse })).json.record;
    recB = (await call(B, 'GET', `/api/v1/records/${recB}`, { session: admin })).json.record;

    // reads
    r = await call(B, 'GET', '/api/v1/records', { session: nurse });
    const names = (j) => (j.records || j).map((x) => x.record).sort().join(',');
    t.check(r.status === 200 && names(r.json) === recA, "the coordinator's record list is site A's", r.text);
    r = await call(B, 'GET', '/api/v1/records', { session: mon });
    t.check(r.status === 200 && names(r.json) === recB, "the monitor's record list is site B's", r.text);
    r = await call(B, 'GET', '/api/v1/records', { session: admin });
    t.check(r.status === 200 && names(r.json) === [recA, recB, recNone].sort().join(','), 'the admin sees every record', r.text);
    for (const rec of [recB, recNone]) {
        r = await call(B, 'GET', `/api/v1/records/${rec}`, { session: nurse });
        t.check(r.status === 404, `${rec} is 404 to the coordinator of A`, r.text);
        r = await call(B, 'GET', `/api/v1/records/${rec}/forms/screening?event=screening_arm_1`, { session: nurse });
        t.check(r.status === 404, `${rec}'s form is 404 to the coordinator of A`, r.text);
    }
    r = await call(B, 'GET', '/api/v1/sites', { session: nurse });
    t.check(r.status === 200 && r.json.sites.length === 1 && r.json.sites[0].code === 'A' && r.json.sites[0].records === 1,
        'the coordinator lists site A alone, with its one record', r.text);
    // queries by site (issue 11): one on each site's record; lists by site, the page too
    for (const rec of [recA, recB]) {
        r = await call(B, 'POST', '/api/v1/queries', { session: admin, json: { record: rec, message: `check ${rec}` } });
        t.check(r.status === 201 || r.status === 200, `a query on ${rec}`, r.text);
    }
    r = await call(B, 'GET', '/api/v1/queries?site=B', { session: admin });
    const qrecs = (j) => (j.queries || j).map((q) => q.record).join();
    t.check(r.status === 200 && qrecs(r.json) === recB, 'the queries of site B', r.text.slice(0, 300));
    r = await call(B, 'GET', '/api/v1/queries', { session: nurse });
    t.check(r.status === 200 && qrecs(r.json) === recA, "the coordinator of A lists A's query alone", r.text.slice(0, 300));
    r = await call(B, 'GET', '/queries?site=A', { session: admin });
    t.check(r.status === 200 && r.text.includes(`check ${recA}`) && !r.text.includes(`check ${recB}`), 'the queries page by site', '');
    r = await call(B, 'GET', '/api/v1/records?site=B', { session: admin });
    t.check(r.status === 200 && names(r.json) === recB, '?site=B narrows the admin\'s record list to site B', r.text);
    r = await call(B, 'GET', '/api/v1/sdv?site=A', { session: admin });
    t.check(r.status === 200 && !r.text.includes(recB), 'SDV progress by site', r.text.slice(0, 200));
    r = await call(B, 'GET', '/api/v1/records?site=B', { session: nurse });
    t.check(r.status === 404, 'a user of A cannot narrow to B (404)', r.text);
    r = await call(B, 'GET', '/api/v1/sites', { session: admin });
    t.check(r.status === 200 && r.json.sites.map((s) => s.code).join(',') === 'A,B', 'the admin lists both sites', r.text);
    r = await call(B, 'GET', '/screening', { session: nurse });
    t.check(r.status === 200 && r.text.includes(recA) && !r.text.includes(recB) && r.text.includes('<th scope="col">Site</th>'),
        "the coordinator's screening log page: A's record with its site, not B's", r.text.slice(0, 200));
    r = await call(B, 'GET', `/records/${recA}/forms/screening_arm_1/screening`, { session: nurse });
    t.check(r.status === 200 && /record-dag-name(&quot;|"):\s*(&quot;|")A(&quot;|")/.test(r.text) && /user-dag-name(&quot;|"):\s*(&quot;|")A(&quot;|")/.test(r.text),
        "the form page's smart variables: [record-dag-name] and [user-dag-name] are site A", (r.text.match(/record-dag-name[^,]*/) || [''])[0]);
    r = await call(B, 'GET', '/', { session: admin });
    t.check(r.status === 200 && /id="sites"/.test(r.text) && /href="\/screening\?site=A">A<\/a> Hospital A<\/td><td>1<\/td>/.test(r.text),
        "the dashboard's Sites card: each site's screened and enrolled, linked to its screening log", (r.text.match(/id="sites".{0,300}/s) || [''])[0]);
    r = await call(B, 'GET', '/screening?site=B', { session: admin });
    t.check(r.status === 200 && r.text.includes(recB) && !r.text.includes(`>${recA}<`), 'the screening log of site B', '');
    r = await call(B, 'GET', `/records/${recB}`, { session: nurse });
    t.check(r.status === 404, "B's record page is 404 to the coordinator of A", r.status);
    r = await call(B, 'GET', '/screening/new', { session: admin });
    t.check(r.status === 200 && r.text.includes('name="_site"'), 'the screening page asks a study-wide user which site', '');
    r = await call(B, 'GET', '/screening/new', { session: nurse });
    t.check(r.status === 200 && !r.text.includes('name="_site"'), 'but not a user of one site', '');

    // writes
    r = await call(B, 'POST', `/api/v1/records/${recB}/values`, { session: nurse, json: { event: 'screening_arm_1', values: { age: '44' } } });
    t.check(r.status === 404, "a save to B's record by the coordinator of A is 404", r.text);
    r = await call(B, 'POST', `/api/v1/records/${recA}/values`, { session: nurse, json: { event: 'screening_arm_1', values: { age: '44' } } });
    t.check(r.status === 200, "a save to A's record by the coordinator of A is saved", r.text);
    c = ioheme('coordinator', ['set', recB, 'screening', 'age=45']);
    t.check(c.status !== 0 && /no record/.test(c.stderr), "the CLI refuses the coordinator's change to B's record as 'no record'", c.stderr);
    c = ioheme('coordinator', ['show', recB]);
    t.check(c.status !== 0 && /no record/.test(c.stderr), "ioheme show of B's record: no record, for the coordinator", c.stderr);
    c = ioheme('coordinator', ['show', recA, '--json']);
    t.check(c.status === 0 && JSON.parse(c.stdout).site === 'A', 'ioheme show says the site', c.stdout);

    // moving a record, and who may
    r = await call(B, 'POST', `/api/v1/records/${recNone}/site`, { session: nurse, json: { site: 'A', reason: 'ours' } });
    t.check(r.status === 403, 'the coordinator may not move a record', r.text);
    r = await call(B, 'POST', `/api/v1/records/${recNone}/site`, { session: admin, json: { reason: 'no site named' } });
    t.check(r.status === 422 && r.json.error.field === 'site', 'a move must name the site (or null)', r.text);
    r = await call(B, 'POST', `/api/v1/records/${recNone}/site`, { session: admin, json: { site: 'A' } });
    t.check(r.status === 422 && r.json.error.field === 'reason', 'moving a record needs a reason', r.text);
    r = await call(B, 'POST', `/api/v1/records/${recNone}/site`, { session: admin, json: { site: 'A', reason: 'referred to A' } });
    t.check(r.status === 200 && r.json.record.site === 'A', 'the admin moves the site-less record to A', r.text);
    r = await call(B, 'GET', `/api/v1/records/${recNone}`, { session: nurse });
    t.check(r.status === 200, 'the coordinator of A sees it now', r.text);
    r = await call(B, 'GET', '/api/v1/users/coordinator/sites', { session: admin });
    t.check(r.status === 200 && r.json.all_sites === false && r.json.sites.join() === 'A', "the coordinator's sites through the API", r.text);
    r = await call(B, 'POST', '/api/v1/users/monitor/sites', { session: admin, json: { sites: ['B', 'A'], reason: 'covers A too' } });
    t.check(r.status === 200 && r.json.sites.join() === 'A,B', 'the monitor now covers A and B', r.text);
    r = await call(B, 'GET', '/api/v1/records', { session: mon });
    t.check(r.status === 200 && names(r.json).split(',').length === 3, 'and lists all three records', r.text);

    // REDCap's API: the sites are its data access groups; a site's user exports its records
    const tok = async (sess) => (await call(B, 'POST', '/api/v1/tokens', { session: sess, json: { format: 'redcap' } })).json.token;
    const rc = async (body) => {
        const res = await fetch(B + '/api/', { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
        return { status: res.status, text: await res.text() };
    };
    const TA = await tok(admin), TN = await tok(await login(B, 'data_manager'));
    r = await rc(`token=${TA}&content=dag&format=json`);
    t.check(r.status === 200 && JSON.parse(r.text).map((g) => g.unique_group_name).join() === 'A,B', 'content=dag lists the sites', r.text);
    r = await rc(`token=${TA}&content=user&format=json`);
    const dagOf = (n) => JSON.parse(r.text).find((x) => x.username === n).data_access_group;
    t.check(r.status === 200 && dagOf('coordinator') === 'A' && dagOf('admin') === '', "content=user: a user of one site is in that site's group", r.text.slice(0, 200));
    r = await rc(`token=${TN}&content=record&format=csv&type=flat`);
    t.check(r.status === 200 && !r.text.split('\n')[0].includes('redcap_data_access_group'),
        'the record export has no group column unless asked for (exportDataAccessGroups), as REDCap', r.text.slice(0, 120));
    r = await rc(`token=${TN}&content=record&format=csv&type=flat&exportDataAccessGroups=true`);
    const lines = r.text.trim().split('\n');
    const head = lines[0].split(','), dagCol = head.indexOf('redcap_data_access_group');
    t.check(r.status === 200 && dagCol > 0 && lines.slice(1).every((l) => l.split(',')[dagCol] === 'A') &&
            !r.text.includes(recB), "site A's data manager's record export: site A's rows, each with redcap_data_access_group A", r.text.slice(0, 300));
    // exportDataAccessGroups with fields (REDCapR strips the pseudo-field from fields= and asks so)
    r = await rc(`token=${TA}&content=record&format=csv&type=flat&exportDataAccessGroups=true&fields=record_id,age`);
    t.check(r.status === 200 && r.text.split('\n')[0].split(',').includes('redcap_data_access_group') && r.text.split('\n')[0].split(',').includes('age'),
        'exportDataAccessGroups=true with fields=…: the group column too', r.text.slice(0, 200));
    // filterLogic with a smart variable: [record-dag-name] is the row's record's site
    r = await rc(`token=${TA}&content=record&format=json&type=flat&fields=record_id&filterLogic=${encodeURIComponent("[record-dag-name] = 'B'")}`);
    t.check(r.status === 200 && JSON.parse(r.text).length > 0 && JSON.parse(r.text).every((x) => x.record_id === recB),
        "filterLogic [record-dag-name] = 'B': site B's record alone", r.text.slice(0, 200));
    // the log by data access group: that site's records' rows
    r = await rc(`token=${TA}&content=log&format=json&dag=B`);
    t.check(r.status === 200 && JSON.parse(r.text).length > 0 && JSON.parse(r.text).every((x) => x.record === recB || x.record === recBScr),
        "log dag=B: the rows of site B's record alone", r.text.slice(0, 300));
    r = await rc(`token=${TA}&content=log&format=json&dag=Z`);
    t.check(r.status === 400 && /'Z'/.test(r.text), 'log dag=Z (no such group): 400 naming it', r.text);
} finally {
    await srv.stop();
}

// exports and reports by site, and the whole-study actions
c = ioheme('admin', ['export', 'redcap', '--out', path.join(dir, 'b'), '--site', 'B']);
t.check(c.status === 0 && /site B \(Hospital B\) only, not the whole study/.test(c.stderr),
    'export redcap --site B, which says it holds site B alone', c.stderr);
const data = fs.readFileSync(path.join(dir, 'b', 'data.csv'), 'utf8').trim().split('\n');
t.check(data.length === 2, "site B's export holds its one record", data.join('\n'));
c = ioheme('coordinator', ['screen', '--list', '--json']);
t.check(c.status === 0 && JSON.parse(c.stdout).every((x) => x.site === 'A'), "the coordinator's screening log is site A's", c.stdout);
// ODM: each site a Location, each subject's SiteRef its site; valid against the 1.3.2 XSD
c = ioheme('admin', ['export', 'odm', '--out', path.join(dir, 'study.xml')]);
t.check(c.status === 0, 'export odm', c.stderr);
const xml = fs.readFileSync(path.join(dir, 'study.xml'), 'utf8');
t.check(/<Location OID="L\.S\.A" Name="Hospital A"/.test(xml) && /<Location OID="L\.S\.B" Name="Hospital B"/.test(xml),
    'ODM AdminData: a Location per site', '');
const subj = (rec) => (xml.match(new RegExp(`<SubjectData SubjectKey="${rec}"[\\s\\S]*?<SiteRef LocationOID="([^"]+)"`)) || [])[1];
t.check(subj(recB) === 'L.S.B' && subj(recA) === 'L.S.A', "each subject's SiteRef is its site", [subj(recA), subj(recB)]);
const xsd = process.env.ODM_XSD ||
    path.join(SRC, 'tests/fixtures/schemas/cdisc-odm-1.3.2/ODM1-3-2.xsd');
const v = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsd, path.join(dir, 'study.xml')], { encoding: 'utf8' });
t.check(v.status === 0, 'the ODM file with sites validates against the ODM 1.3.2 XSD', v.stderr.slice(0, 400));
c = ioheme('admin', ['user', 'list', '--json']);
const ul = JSON.parse(c.stdout), sitesOf = (n) => ul.find((u) => u.name === n).sites;
t.check(sitesOf('coordinator') === 'A' && sitesOf('monitor') === 'A, B' && sitesOf('admin') === 'all',
    'user list says where each user works', c.stdout.slice(0, 300));
c = ioheme('admin', ['sdv', 'status']);
t.check(c.status === 0 && /^SITE +RECORDS +PLANNED +VERIFIED +DONE$/m.test(c.stdout) && /^A +1 /m.test(c.stdout) && /^B +1 /m.test(c.stdout),
    'SDV progress per site', c.stdout);
c = ioheme('admin', ['sdv', 'status', '--json', '--site', 'B']);
t.check(c.status === 0 && JSON.parse(c.stdout).progress.every((p) => p.site === 'B' && p.record === recB), 'SDV progress of site B alone', c.stdout.slice(0, 300));
c = ioheme('admin', ['screen', '--list', '--json', '--site', 'A']);
t.check(c.status === 0 && JSON.parse(c.stdout).length === 2, "the admin's log narrowed to site A: two records", c.stdout);
c = ioheme('admin', ['screen', '--list', '--site', 'Z']);
t.check(c.status !== 0 && /no site 'Z'/.test(c.stderr), 'an unknown --site is an error naming it', c.stderr);
c = ioheme('data_manager', ['backup', path.join(dir, 'copy.db')]);
t.check(c.status !== 0 && /whole study/.test(c.stderr) && !fs.existsSync(path.join(dir, 'copy.db')),
    'a data manager of one site may not back up the whole study', c.stderr);
c = ioheme('data_manager', ['db', 'freeze', '--reason', 'x']);
t.check(c.status !== 0 && /whole study/.test(c.stderr), 'nor freeze the database', c.stderr);
c = ioheme('admin', ['audit', 'verify']);
t.check(c.status === 0, 'the audit chain verifies', c.stdout + c.stderr);
c = ioheme('admin', ['audit', 'export', '--out', path.join(dir, 'all.csv')]);
const trail = fs.readFileSync(path.join(dir, 'all.csv'), 'utf8');
t.check(/,site_add,/.test(trail) && /,user_sites,/.test(trail) && /,record_site,.*referred to A/.test(trail),
    'sites, user sites and the move are in the trail', '');
t.check(/,export,,,,export redcap,.*\[site B \(Hospital B\) only\]/.test(trail), "the export's audit row says it was site B's", '');
c = ioheme('admin', ['report', '--out', path.join(dir, 'rep'), '--site', 'A']);
t.check(c.status === 0, 'report --site A', c.stderr);
const results = JSON.parse(fs.readFileSync(path.join(dir, 'rep', 'results.json'), 'utf8'));
t.check(/site A \(Hospital A\) only, not the whole study/.test(results.study.source),
    "the report of site A says so where it names its source", results.study.source);
// the whole study: the dataset's subjects carry their site, the report enrolment by site
c = ioheme('admin', ['dataset', '--out', path.join(dir, 'ds')]);
t.check(c.status === 0, 'dataset', c.stderr);
const subjects = fs.readFileSync(path.join(dir, 'ds', 'subjects.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
const sc = subjects[0].indexOf('site'), ic = subjects[0].indexOf('subject_id');
t.check(sc > 0 && subjects.slice(1).map((r) => `${r[ic]}:${r[sc]}`).sort().join() === [`${recA}:A`, `${recB}:B`].sort().join(),
    "subjects.csv: each enrolled subject's site", subjects.map((r) => `${r[ic]}:${r[sc]}`).join());
c = ioheme('admin', ['report', '--out', path.join(dir, 'rep2')]);
const whole = JSON.parse(fs.readFileSync(path.join(dir, 'rep2', 'results.json'), 'utf8'));
t.check(JSON.stringify(whole.status.by_site) === JSON.stringify([{ site: 'A', enrolled: 1, fas: 0 }, { site: 'B', enrolled: 1, fas: 0 }]),
    'the report: enrolment by site', whole.status.by_site);
t.check(fs.readFileSync(path.join(dir, 'rep2', 'report.html'), 'utf8').includes('Enrolment by site'), 'report.html shows it', '');
t.done();
