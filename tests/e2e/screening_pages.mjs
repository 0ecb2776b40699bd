// The screening log in pages of 250 lines: a study of hundreds (here ~290 screened by
// `ioheme simulate --patients 200`) gets a pager above and below the table, page 2 starts
// where page 1 stopped, every line is on exactly one page, the links keep a ?site= narrowing,
// and a page number out of range or
// not a number is a 400 naming the range (the value HTML-escaped). A study of one page has no
// pager.
import { makeDb, startServer, call, login, cli, runner } from './http_lib.mjs';

const IOHEME = process.env.IOHEME, SRC = process.env.IOHEME_SRC;
const t = runner('screening_pages');
const { dir, db } = makeDb(IOHEME, SRC, { synthetic: true });
// the empty log, then the server stopped while the study is simulated (a minute of CLI work
// on PostgreSQL: a kept-alive connection would go stale meanwhile)
{
    const first = await startServer(IOHEME, db, dir);
    try {
        const page = await call(first.base, 'GET', '/screening', { session: await login(first.base, 'admin') });
        t.check(page.status === 200 && !/class="pager"/.test(page.text), 'an empty log has no pager', page.status);
    } finally {
        await first.stop();
    }
}
// at site A (the admin works there only, so simulated records are created there)
cli(IOHEME, db, ['site', 'add', 'A', '--name', 'Site A']);
cli(IOHEME, db, ['user', 'sites', 'admin', 'A', '--reason', 'the pages of one site']);
cli(IOHEME, db, ['simulate', '--patients', '200', '--seed', '3']);
const srv = await startServer(IOHEME, db, dir);
const B = srv.base;
const rows = (html) => [...html.matchAll(/<tr><td data-label="Screening no."><a href="\/records\/[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]);

try {
    const all = JSON.parse(cli(IOHEME, db, ['screen', '--list', '--json'])).map((r) => r.screening_no);
    t.check(all.length > 250 && all.length <= 500, `the study has two pages of screenings (${all.length})`);
    const admin = await login(B, 'admin');
    let page = await call(B, 'GET', '/screening', { session: admin });
    const p1 = rows(page.text);
    t.check(page.status === 200 && p1.length === 250 && p1[0] === all[0] && p1[249] === all[249],
        'page 1: the first 250 lines, in screening order', p1.slice(0, 2));
    t.check((page.text.match(/class="pager"/g) || []).length === 2 && page.text.includes(`lines 1–250 of ${all.length} (page 1 of 2)`) &&
        page.text.includes('href="/screening?page=2" rel="next"') && !page.text.includes('rel="prev"'),
        'a pager above and below: lines 1–250, a link to the next page, none to a previous one');
    page = await call(B, 'GET', '/screening?page=2', { session: admin });
    const p2 = rows(page.text);
    t.check(page.status === 200 && p2.length === all.length - 250 && p2[0] === all[250] && p2.at(-1) === all.at(-1),
        'page 2: the rest, starting where page 1 stopped', p2.slice(0, 2));
    t.check(page.text.includes(`lines 251–${all.length} of ${all.length} (page 2 of 2)`) && page.text.includes('href="/screening?page=1" rel="prev"') &&
        !page.text.includes('rel="next"'), 'page 2 links back and not on');
    t.check(new Set([...p1, ...p2]).size === all.length, 'every screening is on exactly one page');
    page = await call(B, 'GET', '/screening?site=A', { session: admin });
    t.check(page.status === 200 && rows(page.text).length === 250 && page.text.includes('href="/screening?site=A&amp;page=2" rel="next"'),
        'narrowed to a site (?site=A), the pager keeps the narrowing');
    page = await call(B, 'GET', '/screening?site=A&page=2', { session: admin });
    t.check(page.status === 200 && rows(page.text)[0] === all[250] && page.text.includes('href="/screening?site=A&amp;page=1" rel="prev"'),
        'page 2 of the site', page.status);
    for (const bad of ['0', '3', 'x<b>', '-1', '1.5', '']) {
        const r = await call(B, 'GET', `/screening?page=${encodeURIComponent(bad)}`, { session: admin });
        t.check(r.status === 400 && r.text.includes('page must be a whole number from 1 to 2') && !r.text.includes('x<b>'),
            `page=${bad}: 400 naming the range`, r.status);
    }
} finally {
    await srv.stop();
    t.done();
}
