// Record IDs as REDCap keeps them (issue 12 §2: "keeps the source's record IDs"): a custom record
// name may be up to 100 characters and hold spaces ("AMC Javelin", "Toyota Corona" in a real
// REDCap export), so an import creates those records under those names; a name with a comma (it
// separates the API's record lists), a '/' (it separates a URL's path), a space at either end
// or over 100 characters is refused naming the rule, and nothing is saved. The web pages link to
// such a record with its name percent-encoded, and the redirect after a save goes back to it.
// The project is the corpus's rr-simple dictionary (no eligibility criteria, so an import
// creates records).
import fs from 'node:fs';
import path from 'node:path';
import { makeDb, startServer, call, login, runner, sql, redcapPost } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('record_ids');
const proto = fs.mkdtempSync('/tmp/ioheme-recids-');
fs.copyFileSync(path.join(SRC, 'tests/fixtures/redcap-corpus/rr-simple/dictionary.csv'), path.join(proto, 'dictionary.csv'));
const { dir, db } = makeDb(IOHEME, SRC, { protocol: proto });
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;
const enc = encodeURIComponent;
const sq = (q) => { const r = sql(db, q); if (r.status !== 0) throw new Error(r.stderr); return r.stdout.trim(); };
const nrecords = () => Number(sq('SELECT count(*) FROM record'));

const api = (body) => redcapPost(B, body);

const long = 'L' + 'x'.repeat(98) + 'L'; // 100 characters: REDCap's longest record name
const odd = 'a#1?b%c&d'; // characters a URL gives meaning to, fine in a name
try {
    const s = await login(B, 'coordinator');
    let r = await call(B, 'POST', '/api/v1/tokens', { session: s, json: { format: 'redcap' } });
    const T = r.json.token;
    const dm = await login(B, 'data_manager');
    r = await call(B, 'POST', '/api/v1/tokens', { session: dm, json: { format: 'redcap' } });
    const TX = r.json.token; // exports need the export right, which a coordinator lacks

    for (const bad of [long + 'y', 'a,b', 'a/b', ' lead', 'trail ']) {
        r = await api(`token=${T}&content=record&format=json&returnFormat=json&data=${enc(JSON.stringify([
            { record_id: 'fine', age: '30' }, { record_id: bad, age: '31' }]))}`);
        t.check(r.status === 400 && /cannot be a record ID: 1 to 100 printable characters/.test(r.json?.error || '') &&
                nrecords() === 0, `'${bad.length > 20 ? bad.slice(0, 8) + '… (' + bad.length + ')' : bad}' refused, nothing saved`, r.text);
    }

    r = await api(`token=${T}&content=record&format=json&returnContent=ids&data=${enc(JSON.stringify([
        { record_id: 'AMC Javelin', age: '41' }, { record_id: long, age: '42' }, { record_id: odd, age: '43' }]))}`);
    t.check(r.status === 200 && JSON.stringify(r.json) === JSON.stringify(['AMC Javelin', long, odd]),
            'names with a space, of 100 characters and with URL characters: created as given', r.text);
    t.check(sq('SELECT study_id FROM record ORDER BY id') === ['AMC Javelin', long, odd].join('\n'),
            'stored under those names');
    r = await api(`token=${TX}&content=record&format=json&records[0]=${enc('AMC Javelin')}&records[1]=${enc(long)}&fields=record_id,age`);
    t.check(r.status === 200 && JSON.stringify(r.json) === JSON.stringify([{ record_id: 'AMC Javelin', age: '41' }, { record_id: long, age: '42' }]),
            'exported by name', r.text);

    for (const name of ['AMC Javelin', long, odd]) {
        const p = '/records/' + enc(name);
        r = await call(B, 'GET', p, { session: s });
        t.check(r.status === 200 && r.text.includes(`href="${p}/forms/event_1/demographics"`),
                `${p.slice(0, 30)}: the record's page, linking to its form by the encoded name`, r.status + ' ' + r.text.slice(0, 200));
        r = await call(B, 'GET', `/api/v1/records/${enc(name)}`, { session: s });
        t.check(r.status === 200 && r.json?.study_id === name, `GET /api/v1/records/${enc(name).slice(0, 20)}`, r.text);
        r = await call(B, 'POST', `${p}/forms/event_1/demographics`, { session: s, form: { age: '50', __status: '0' } });
        t.check(r.status === 303 && r.headers.get('location') === `${p}/forms/event_1/demographics?saved=1`,
                `${p.slice(0, 30)}: a save redirects back to the encoded name`, `${r.status} ${r.headers.get('location')} ${r.text.slice(0, 200)}`);
    }
    t.check(sq(`SELECT count(*) FROM value v JOIN record r ON r.id = v.record_id WHERE v.field = 'age' AND v.value = '50'`) === '3',
            'the three saves landed on their records');
    r = await call(B, 'GET', '/', { session: s });
    t.check(r.status === 200 && r.text.includes(`href="/records/AMC%20Javelin"`) && r.text.includes(`href="/records/${enc(odd)}"`) &&
            r.text.includes('>AMC Javelin<'), 'the record list links each by its encoded name and shows it as is', r.text.slice(0, 300));
} catch (err) {
    t.check(false, 'unexpected error', String(err && err.stack || err));
} finally {
    await srv.stop();
    fs.rmSync(proto, { recursive: true, force: true });
}
t.done();
