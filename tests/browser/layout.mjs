// Browser test of the UI's fit at the bedside (issue 10, "A UI that fits the bedside"):
// playwright-core driving Debian's Chromium headless against `ioheme serve` on a fresh database
// holding an ineligible, an eligible and an enrolled patient whose every form has data. Every
// page (sign-in, dashboard, screening log, screening form, the subject pages, every form of the
// protocol at every event, the stopwatch, a field's history, the casebook, users, a 403) is
// visited on a 10-inch tablet in landscape (1024×768) and on a phone (390×844), and must:
//   - not scroll sideways: documentElement.scrollWidth <= innerWidth, and no visible element
//     reaching past the viewport's edges;
//   - have touch-sized controls (inputs, selects, buttons, choice labels: >= 44 px high);
//   - show no ISO timestamp ("2026-11-20T10:00:00.000Z") anywhere.
// Also: the enrolled patient's forms grid is wholly on the first screen at 1024×768, grid
// statuses read as text/shape and not colour alone, history shows choice labels ("Right" →
// "Left", not 2 → 1), the screening log shows the screening date and a readable status, and
// the 403 page says in words what the role may not do. Screenshots go to $IOHEME_ARTIFACTS.
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';
import { makeDb, startServer, call, login, runner, ELIGIBLE, PASSWORD } from '../e2e/http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const ART = process.env.IOHEME_ARTIFACTS || path.resolve('tests/artifacts');
// a full-page screenshot of every page at each size, for a person to look at: a third of the
// test's time, so only when asked (IOHEME_SCREENSHOTS=1); the checks never read them
const SHOTS = process.env.IOHEME_SCREENSHOTS === '1';
fs.mkdirSync(ART, { recursive: true });
const t = runner('browser_layout');
const { dir, db } = makeDb(IOHEME, SRC);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d/;

// ---- the data: every form of the protocol filled for IOH-001 through the JSON API ----
const nurse = await login(B, 'coordinator');
const api = async (method, p, json) => {
    const r = await call(B, method, p, { session: nurse, json });
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
    return r.json;
};
const proto = (await call(B, 'GET', '/api/v1/protocol', { session: nurse })).json;
const formEvents = fs.readFileSync(path.join(SRC, 'protocols/io-heme/form_events.csv'), 'utf8')
    .trim().split('\n').slice(1).map((l) => { const [, event, form] = l.split(','); return { event, form }; });
const repeating = new Set(fs.readFileSync(path.join(SRC, 'protocols/io-heme/repeating.csv'), 'utf8')
    .trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join('|')));
const LONG_NOTE = 'Documented at the bedside: the needle was secured, flushed with 10 mL saline, ' +
    'the limb checked every hour, and the family informed; no swelling was seen at any check. ' +
    'Reference-number-without-any-spaces-IOH2026-11-20-0001-bedside-documentation-trail.';

// A valid value for every data field of form (the middle of its range; the first choice).
function formValues(form) {
    const v = {};
    for (const f of form.fields) {
        if (f.name === 'record_id' || f.readonly || ['calc', 'descriptive', 'file'].includes(f.type)) continue;
        if (f.type === 'checkbox') { v[`${f.name}___${f.choices[0].code}`] = '1'; continue; }
        if (f.choices) { v[f.name] = f.choices[0].code; continue; }
        const mid = (lo, hi, d) => (f.min !== undefined && f.max !== undefined ? (Number(f.min) + Number(f.max)) / 2 : d);
        switch (f.validation) {
        case 'integer': v[f.name] = String(Math.round(mid(0, 0, 5))); break;
        case 'number': case 'number_1dp': case 'number_2dp': v[f.name] = String(Math.round(mid(0, 0, 5) * 10) / 10); break;
        case 'date_ymd': v[f.name] = '2026-11-20'; break;
        case 'datetime_ymd': v[f.name] = '2026-11-20 10:00'; break;
        case 'datetime_seconds_ymd': v[f.name] = '2026-11-20 10:00:00'; break;
        case 'time': v[f.name] = '10:00'; break;
        case undefined: v[f.name] = f.type === 'notes' ? LONG_NOTE : 'as documented in the notes'; break;
        default: break;
        }
    }
    return v;
}

// Saves values, dropping each field the store refuses (branching, cross-field rules) until the
// rest is accepted: the point is a record full of realistic data, not these values.
async function save(event, instance, values) {
    for (let i = 0; i < 60 && Object.keys(values).length; i++) {
        const r = await call(B, 'POST', '/api/v1/records/IOH-001/values', { session: nurse, json: { event, instance, values } });
        if (r.status === 200) return;
        const bad = r.json && r.json.error && r.json.error.field;
        const key = bad && Object.keys(values).find((k) => k === bad || k.startsWith(bad + '___'));
        if (!key) throw new Error(`saving ${event}: ${r.status} ${r.text}`);
        delete values[key];
    }
}

let pages = [];
try {
    await api('POST', '/api/v1/screening', { values: { ...ELIGIBLE, age: '72' } }); // SCR-001, not eligible
    await api('POST', '/api/v1/screening', { values: ELIGIBLE });                    // SCR-002 -> IOH-001
    await api('POST', '/api/v1/screening', { values: { ...ELIGIBLE, scr_date: '2026-11-21' } }); // SCR-003, eligible
    await api('POST', '/api/v1/records/SCR-002/enrol', { values: { cons_type: '1', cons_dt: '2026-11-20 09:30' } });
    const statuses = [2, 1, 0];
    let k = 0;
    for (const { event, form } of formEvents) {
        if (event === 'screening_arm_1') continue;
        const fm = proto.forms.find((f) => f.name === form);
        const instances = repeating.has(`${event}|${form}`) ? (form === 'io_attempt' ? [1, 2] : [1]) : [0];
        for (const instance of instances) {
            const values = formValues(fm);
            if (form === 'io_attempt') Object.assign(values, { att_placement: '1', att_number: String(instance), att_side: '2' });
            await save(event, instance, values);
            await api('POST', `/api/v1/records/IOH-001/forms/${form}/status`, { event, instance, status: statuses[k++ % 3] });
            pages.push({ name: `form-${event}-${form}${instance ? '-' + instance : ''}`,
                         url: `/records/IOH-001/forms/${event}/${form}${instance ? '?instance=' + instance : ''}` });
            if (instance === 1)
                pages.push({ name: `form-${event}-${form}-list`, url: `/records/IOH-001/forms/${event}/${form}` });
        }
    }
    // the side of attempt 2 corrected from Right (2) to Left (1): the history must say so in words
    const a2 = await api('GET', '/api/v1/records/IOH-001/forms/io_attempt?event=io_procedure_arm_1&instance=2');
    const reason = a2.status === 2 ? { reason: 'side recorded wrongly' } : {};
    await api('POST', '/api/v1/records/IOH-001/values', { event: 'io_procedure_arm_1', instance: 2, values: { att_side: '1' }, ...reason });
    // a query with a long question, for the query pages
    const mon = await login(B, 'monitor');
    const q = await call(B, 'POST', '/api/v1/queries', { session: mon, json: { record: 'IOH-001', event: 'io_procedure_arm_1', instance: 2, field: 'att_side', message: LONG_NOTE } });
    if (q.status !== 201) throw new Error(`raising a query: ${q.status} ${q.text}`);
} catch (e) {
    t.check(false, 'populating the study', e.stack);
}

pages = [
    { name: 'dashboard', url: '/' },
    { name: 'screening-log', url: '/screening' },
    { name: 'screening-form', url: '/screening/new' },
    { name: 'subject-enrolled', url: '/records/IOH-001' },
    { name: 'subject-ineligible', url: '/records/SCR-001' },
    { name: 'subject-to-enrol', url: '/records/SCR-003' },
    { name: 'form-screening', url: '/records/IOH-001/forms/screening_arm_1/screening' },
    { name: 'form-consent', url: '/records/IOH-001/forms/screening_arm_1/consent' },
    ...pages,
    { name: 'stopwatch', url: '/records/IOH-001/stopwatch' },
    { name: 'history', url: '/records/IOH-001/history/att_side' },
    { name: 'history-checkbox', url: '/records/IOH-001/history/qual_cat1' },
    { name: 'casebook', url: '/records/IOH-001/casebook' },
    { name: 'queries', url: '/queries?status=all' },
    { name: 'query', url: '/queries/1' },
    { name: 'study', url: '/study' },
    { name: 'users', url: '/users', as: 'admin' },
    { name: '403', url: '/users', status: 403 },
    { name: 'login', url: '/login', as: null },
];

const browser = await launchChromium();
const problems = [];

// A signed-in context at this size (as: the user; null signed out).
async function contextFor(size, as) {
    const ctx = await browser.newContext({ viewport: size, hasTouch: true });
    if (as) {
        const page = await ctx.newPage();
        await page.goto(B + '/login');
        await page.fill('#username', as);
        await page.fill('#password', PASSWORD[as]);
        await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
        await page.close();
    }
    return ctx;
}

// What a page does wrong at this size: sideways scrolling, elements past the edge, small
// controls, ISO timestamps.
function measure() {
    const W = window.innerWidth, out = { scrollWidth: document.documentElement.scrollWidth, innerWidth: W };
    const desc = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
    const visible = (e) => { const s = getComputedStyle(e); return e.getClientRects().length && s.visibility !== 'hidden'; };
    out.wide = [];
    for (const e of document.body.querySelectorAll('*')) {
        if (!visible(e) || e.closest('.sr')) continue;
        const r = e.getBoundingClientRect();
        if (r.right > W + 0.5 || r.left < -0.5 || r.width > W + 0.5)
            out.wide.push(`${desc(e)} [${Math.round(r.left)}..${Math.round(r.right)}]`);
    }
    out.small = [];
    for (const e of document.querySelectorAll('button, .button, input, select, textarea, label.choice, a.hist')) {
        if (['hidden', 'radio', 'checkbox'].includes(e.type) || !visible(e)) continue;
        const r = e.getBoundingClientRect();
        if (r.height < 43.5) out.small.push(`${desc(e)} ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    const m = document.body.innerText.match(/.{0,30}\d{4}-\d\d-\d\dT\d\d:\d\d.{0,20}/);
    out.iso = m ? m[0] : null;
    return out;
}

const sizes = [{ name: 'tablet', width: 1024, height: 768 }, { name: 'phone', width: 390, height: 844 }];
try {
    for (const size of sizes) {
        // one tab per user at this size, going from page to page as a person would (a new tab
        // for each page took more than half of the test's time: 135 s against 51 s)
        const contexts = {}, tabs = {};
        let current = '';
        for (const p of pages) {
            const as = p.as === undefined ? 'coordinator' : p.as;
            if (!tabs[as]) {
                contexts[as] = await contextFor({ width: size.width, height: size.height }, as);
                tabs[as] = await contexts[as].newPage();
                tabs[as].on('console', (m) => { if (m.type() === 'error') problems.push(`${current}: ${m.text()}`); });
                tabs[as].on('pageerror', (e) => problems.push(`${current}: ${e}`));
            }
            const page = tabs[as];
            current = p.name;
            const res = await page.goto(B + p.url);
            const where = `${p.name} at ${size.width}×${size.height}`;
            t.check(res.status() === (p.status || 200), `${where}: status ${p.status || 200}`, res.status());
            if (p.name === 'stopwatch') await page.waitForSelector('#sites button');
            const m = await page.evaluate(measure);
            t.check(m.scrollWidth <= m.innerWidth, `${where}: no sideways scrolling (scrollWidth ${m.scrollWidth} <= ${m.innerWidth})`);
            t.check(m.wide.length === 0, `${where}: no element past the viewport's edge`, m.wide.slice(0, 6));
            t.check(m.small.length === 0, `${where}: inputs, selects and buttons at least 44 px high`, m.small.slice(0, 6));
            t.check(m.iso === null, `${where}: no ISO timestamps on the page`, m.iso);
            if (SHOTS) await page.screenshot({ path: path.join(ART, `layout-${size.name}-${p.name}.png`), fullPage: true });

            if (p.name === 'subject-enrolled') {
                const g = await page.locator('#grid').boundingBox();
                if (size.name === 'tablet')
                    t.check(g && g.y >= 0 && g.y + g.height <= size.height, `${where}: the forms grid is wholly on the first screen`,
                            g && { top: Math.round(g.y), bottom: Math.round(g.y + g.height) });
                else
                    t.check(g && g.y < size.height, `${where}: the forms grid starts on the first screen`, g && Math.round(g.y));
                // status by text or shape as well as colour: each status draws differently in grey
                const marks = await page.$$eval('#grid a .dot', (els) => {
                    const m = {};
                    for (const e of els) {
                        const st = [...e.classList].find((c) => /^st/.test(c));
                        (m[st] = m[st] || new Set()).add(e.innerText.replace(/\d+/g, '').trim());
                    }
                    return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [...v]]));
                });
                const glyphs = Object.values(marks).map((v) => v.join('|'));
                t.check(Object.keys(marks).length === 3 && glyphs.every((x) => x && !x.includes('|')) && new Set(glyphs).size === 3,
                        `${where}: the form statuses in the grid carry distinct visible marks, not colour alone`, marks);
                const legend = await page.$$eval('.legend .dot', (els) => els.map((e) => `${e.className}:${e.innerText.trim()}`));
                t.check(legend.length === 4 && new Set(legend.map((l) => l.split(':')[1])).size === 4 &&
                        legend.every((l) => marks[l.split(':')[0].replace('dot ', '')] === undefined ||
                                            marks[l.split(':')[0].replace('dot ', '')][0] === l.split(':')[1]),
                        `${where}: the legend shows the same four marks`, { legend, marks });
                const words = await page.textContent('.legend');
                t.check(/No data/.test(words) && /Incomplete/.test(words) && /Unverified/.test(words) && /Complete/.test(words),
                        `${where}: the legend names the statuses`, words);
            }
            if (p.name === 'history') {
                const rows = await page.$$eval('#history tbody tr', (trs) => trs.map((tr) => ({
                    old: tr.querySelector('td.old').innerText.trim(), new: tr.querySelector('td.new').innerText.trim(),
                    text: tr.innerText })));
                t.check(rows.some((r) => r.old === 'Right' && r.new === 'Left'), `${where}: the side's change reads Right → Left`, rows);
                t.check(rows.every((r) => !/^\d+$/.test(r.old) && !/^\d+$/.test(r.new)), `${where}: no bare choice codes`, rows);
                const when = await page.$$eval('#history tbody tr td:first-child', (tds) => tds.map((td) => td.innerText));
                t.check(when.length && when.every((w) => /^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(w.trim())), `${where}: times to the minute`, when);
            }
            if (p.name === 'history-checkbox') {
                const rows = await page.$$eval('#history tbody tr', (trs) => trs.map((tr) => tr.innerText));
                const option = proto.forms.flatMap((f) => f.fields).find((f) => f.name === 'qual_cat1').choices[0].label;
                t.check(rows.length && rows.every((r) => r.includes(option) && /\bticked\b/.test(r)) && rows.every((r) => !/(^|\s)[01](\s|$)/.test(r.split(option)[1])),
                        `${where}: a checkbox's history names the option and says ticked, not its code`, rows);
            }
            if (p.name === 'screening-log') {
                const rows = await page.$$eval('#screening-log tbody tr', (trs) => trs.map((tr) => tr.innerText));
                t.check(rows.length === 3 && /2026-11-20/.test(rows[0]) && /2026-11-21/.test(rows[2]),
                        `${where}: the screening log shows each patient's screening date`, rows);
                t.check(rows.every((r) => !/screen_failure|_/.test(r)) && /Screen failure/i.test(rows[0]) && /Enrolled/i.test(rows[1]),
                        `${where}: readable statuses`, rows);
            }
            if (p.name === 'users') {
                const created = await page.$$eval('#users tbody tr', (trs) => trs.map((tr) => tr.innerText));
                t.check(created.length && created.every((r) => /\d{4}-\d\d-\d\d \d\d:\d\d/.test(r)), `${where}: creation times to the minute`, created);
            }
            if (p.name === '403') {
                const text = await page.textContent('main');
                t.check(/may not manage users/.test(text) && !/user_manage/.test(text), `${where}: the 403 says in words what the role may not do`, text);
            }
        }
        for (const c of Object.values(contexts)) await c.close();
    }
} catch (e) {
    t.check(false, 'unexpected exception', e.stack);
}
t.check(problems.filter((p) => !/status of 403/.test(p)).length === 0, 'no console errors or CSP violations', problems);
await browser.close();
const exit = await srv.stop();
t.check(exit.code === 0, 'server stopped cleanly', exit);
if (SHOTS) console.log(`browser_layout: screenshots in ${ART}`);
if (!t.failed) fs.rmSync(dir, { recursive: true, force: true }); // kept on failure, for the logs
t.done();
