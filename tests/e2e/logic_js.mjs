// The C evaluator and the emitted JavaScript (src/web/logic.js) against one table: every row
// is run through `ioheme protocol eval --json` and through `ioheme protocol js` + node, and
// both must print the expected text, worked out by hand in the row's comment.
// Run by logic_js.sh; needs $IOHEME (the binary) and $IOHEME_SRC.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const L = require(`${process.env.IOHEME_SRC}/src/web/logic.js`);
const bin = process.env.IOHEME;
const NOW = '2024-03-01 12:00:00'; // 'today' is 2024-03-01
const NOW_MS = Date.UTC(2024, 2, 1, 12, 0, 0);

// [expression, values, expected printed result]
const table = [
    ['1 + 2 * 3', {}, '7'],
    ['(1 + 2) * 3', {}, '9'],
    ['2 ^ 3 ^ 2', {}, '512'],                       // right-assoc: 2^9
    ['-2^2', {}, '-4'],                             // ^ binds tighter than unary minus
    ['10 / 4', {}, '2.5'],
    ['1 / 0', {}, 'null'],                          // division by zero is blank
    ['[a] + 1', {}, 'null'],                        // blank in arithmetic
    ['[a] + 1', { a: '2' }, '3'],
    ['[a] + 1', { a: 'abc' }, 'null'],
    ['[a] = ""', {}, '1'],
    ['[a] = 0', {}, '0'],                           // blank is not zero
    ['[a] <> ""', { a: 'x' }, '1'],
    ['[a] = "1.0"', { a: '1' }, '1'],               // both numeric: 1 = 1
    ['[a] = "abc"', { a: 'ABC' }, '0'],             // text is case-sensitive
    ['[a] < 5', {}, '0'],                           // blank side: false
    ['[a] > 5', { a: '10' }, '1'],                  // numeric, not text ("10" < "5")
    ['"10" < "9"', {}, '0'],
    ['"b" > "a"', {}, '1'],
    ['"01" = 1', {}, '1'],
    ['[x] = 1 and [y] = 2', { x: '1', y: '2' }, '1'],
    ['[x] = 1 AND [y] = 2', { x: '1' }, '0'],
    ['[x] = 1 Or [y] = 2', { y: '2' }, '1'],
    ['[x] = 1 && [y] = 2 || [z] = 3', { z: '3' }, '1'],
    ['not([x] = 1)', {}, '1'],
    ['![x]', { x: '0' }, '1'],
    ['[x] != 3', { x: '3' }, '0'],
    ['[x] <> 3', { x: '4' }, '1'],
    ['if([x] > 1, "big", "small")', { x: '2' }, '"big"'],
    ['if([x] > 1, "big", "small")', {}, '"small"'],
    ['if([a] = "", 5, 6) * 2', {}, '10'],
    // 2024 is a leap year: Jan (31) + Feb (29) = 60 days
    ['datediff("2024-01-01", "2024-03-01", "d")', {}, '60'],
    ['datediff("2024-03-01", "2024-01-01", "d", true)', {}, '-60'],
    ['datediff("2024-03-01", "2024-01-01", "d")', {}, '60'],
    ['datediff("2024-03-01", "2024-01-01", "d", "ymd", true)', {}, '-60'],
    // 2000-01-01 .. 2024-01-01: 24*365 + 6 leap days = 8766 d; / 365.2425 = 24.000493
    ['rounddown(datediff("2000-01-01", "2024-01-01", "y"), 0)', {}, '24'],
    ['round(datediff("2000-01-01", "2024-01-01", "y"), 4)', {}, '24.0005'],
    // 60 d / 30.44 = 1.97109
    ['round(datediff([d1], [d2], "M"), 2)', { d1: '2024-01-01', d2: '2024-03-01' }, '1.97'],
    ['datediff([d1], "2024-01-02", "d")', {}, 'null'],
    ['datediff("2024-02-30", "2024-03-01", "d")', {}, 'null'],  // no 30 February
    ['datediff("2023-02-28", "2023-03-01", "d")', {}, '1'],     // 2023 not leap
    ['datediff("2024-03-01 06:00", "2024-03-01 18:30", "h")', {}, '12.5'],
    ['datediff("2024-03-01 06:00", "2024-03-01 06:01:30", "s")', {}, '90'],
    ['datediff("2024-03-01 06:00", "2024-03-01 06:01:30", "m")', {}, '1.5'],
    ['datediff("01-31-2024", "03-01-2024", "d", "mdy")', {}, '30'],
    ['datediff("31-01-2024", "01-03-2024", "d", "dmy")', {}, '30'],
    ['datediff("2024-02-01", "today", "d")', {}, '29'],
    ['datediff("2024-03-01", "now", "h")', {}, '12'],
    ['round(2.5)', {}, '3'],
    ['round(-2.5)', {}, '-3'],                      // half away from zero
    ['round(1.005, 2)', {}, '1.01'],                // pre-rounded to 15 digits, as PHP
    ['round(1234.5678, 2)', {}, '1234.57'],
    ['round(1250, -2)', {}, '1300'],
    ['rounddown(2.99)', {}, '2'],
    ['rounddown(-2.1)', {}, '-3'],
    ['roundup(2.01)', {}, '3'],
    ['roundup(0.121, 2)', {}, '0.13'],
    ['rounddown(0.29, 2)', {}, '0.29'],             // 0.29*100 = 28.999999999999996
    ['abs(-3)', {}, '3'],
    ['sqrt(16)', {}, '4'],
    ['sqrt(-1)', {}, 'null'],
    ['min(3, [a], 1)', {}, '1'],
    ['max(3, [a], 1)', {}, '3'],
    ['sum(1, 2, [a])', {}, '3'],
    ['mean(1, 2, [a], 6)', {}, '3'],
    ['median(5, 1, 3, 2)', {}, '2.5'],
    ['stdev(2, 4, 4, 4, 5, 5, 7, 9)', {}, '2.1380899352994'], // sqrt(32/7), sample sd
    ['stdev(3, [a])', {}, 'null'],                  // one value: no sample sd
    ['log(1000, 10)', {}, '3'],
    ['log(0)', {}, 'null'],
    ['isinteger([a])', { a: '-12' }, '1'],
    ['isinteger([a])', { a: '1.0' }, '0'],
    ['isinteger([a])', {}, '0'],
    ['concat([a], "-", 7)', { a: 'x' }, '"x-7"'],
    ['concat([a], [b])', {}, 'null'],               // nothing to join: blank
    ['contains([a], "ELL")', { a: 'Hello' }, '1'],   // ASCII case ignored
    ['starts_with([a], "he")', { a: 'Hello' }, '1'],
    ['ends_with([a], "hel")', { a: 'Hello' }, '0'],
    ['year([d]) + month([d]) + day([d])', { d: '2024-03-01 10:00' }, '2028'], // 2024+3+1
    ['day([d])', { d: '2024-02-30' }, 'null'],      // not a date
    ['sum([a], [b])', {}, 'null'],
    ['isnumber("12.5")', {}, '1'],
    ['isnumber("12a")', {}, '0'],
    ['isblankormissingcode([a])', {}, '1'],
    ['isblankormissingcode([a])', { a: '0' }, '0'],
    ['[cb(2)] = "1"', { 'cb(2)': '1' }, '1'],
    ['[cb(3)] = "1"', { 'cb(2)': '1' }, '0'],       // unticked option is "0"
    ['[ev][w] > 80', { 'ev/w': '81.5' }, '1'],
    ['[ev][w] > 80', { w: '81.5' }, '0'],           // other event's value is blank
    ['0.1 + 0.2', {}, '0.3'],
    ['1 / 3', {}, '0.333333333333333'],
    ['10 ^ 20', {}, '1e+20'],
    ['2 / 3 * 3', {}, '2'],
    ["[t] = 'yes'", { t: 'yes' }, '1'],
    ['[a] >= 18 and [a] <= 65', { a: '70' }, '0'],
    ["'a<b>&\"\\' = [s]", { s: 'a<b>&"\\' }, '1'], // no escapes in logic strings
    // REDCap's text functions, on characters ("é" is one), blank for an empty result
    ['left("abcdef", 3)', {}, '"abc"'],
    ['left([a], 2)', { a: 'éa€b' }, '"éa"'],
    ['left("abc", 10)', {}, '"abc"'],
    ['left("abc", 0)', {}, 'null'],
    ['left("abc", [n])', {}, 'null'],                // no count
    ['right("abcdef", 2)', {}, '"ef"'],
    ['right([a], 2)', { a: 'xé€' }, '"é€"'],
    ['mid("abcdef", 2, 3)', {}, '"bcd"'],             // from the 2nd, three characters
    ['mid("abcdef", 5, 10)', {}, '"ef"'],
    ['mid("abc", 0, 2)', {}, 'null'],                 // start counts from 1
    ['length([a])', { a: 'héllo' }, '5'],
    ['length([a])', {}, '0'],
    ['find("L", "hello")', {}, '3'],                  // case ignored; h-e-l: 3rd
    ['find("é€", "aé€")', {}, '2'],
    ['find("z", "hello")', {}, '0'],
    ['upper([a])', { a: 'abé-x' }, '"ABé-X"'],         // ASCII letters only
    ['lower("AbC")', {}, '"abc"'],
    ['trim([a])', { a: '  x y \t' }, '"x y"'],
    ['concat_ws(", ", [a], [b], [c])', { a: 'x', c: 'z' }, '"x, z"'], // blanks left out
    ['concat_ws("-", 1, 2.5)', {}, '"1-2.5"'],
    ['replace_text([a], "-", "+")', { a: 'a-b--c' }, '"a+b++c"'],
    ['replace_text("aXa", "x", "y")', {}, '"aXa"'],   // case as written
    ['not_contain([a], "ELL")', { a: 'Hello' }, '0'],
    ['not_contain([a], "z")', { a: 'Hello' }, '1'],
    ['calctext(2 + 3)', {}, '"5"'],
    ['mod(17, 5)', {}, '2'],
    ['mod(-7, 3)', {}, '-1'],                         // the dividend's sign: -7 = -2*3 - 1
    ['mod(7, 0)', {}, 'null'],
    ['mod(7.5, 2)', {}, '1.5'],
    ['round(exponential(1), 6)', {}, '2.718282'],     // e = 2.7182818...
    ['exponential(0)', {}, '1'],
    ['isblanknotmissingcode([a])', {}, '1'],
    ['isblanknotmissingcode([a])', { a: '0' }, '0'],
    ['ismissingcode([a])', { a: 'UNK' }, '0'],        // no missing-data codes in ioheme
    ['hasmissingcode([a], "UNK")', { a: 'UNK' }, '0'],
    // REDCap's comment lines: # and //
    ['// the adult range\n[a] >= 18', { a: '20' }, '1'],
    ['  // indented\n# and this\n[a] + 1', { a: '1' }, '2'],
    // an event-valued smart variable standing for the event
    ['[previous-event-name][w] + 1', { 'previous-event-name': 'b1', 'b1/w': '70' }, '71'],
    ['[previous-event-name][w] + 1', { 'b1/w': '70' }, 'null'], // no previous event: blank
    ['[first-event-name][w]', { 'first-event-name': 'scr', 'scr/w': '9', w: '5' }, '"9"'],
];

function cEval(expr, vals) {
    const args = ['protocol', 'eval', '--json', '--now', NOW, expr];
    for (const [k, v] of Object.entries(vals)) args.push(`${k}=${v}`);
    return execFileSync(bin, args, { encoding: 'utf8' }).trim();
}

function jsEval(expr, vals) {
    const js = execFileSync(bin, ['protocol', 'js', expr], { encoding: 'utf8' }).trim();
    const f = L.compile(js);
    const v = f((event, field, code) => {
        const key = (event ? `${event}/` : '') + field + (code ? `(${code})` : '');
        if (key in vals) return vals[key];
        return code ? '0' : null;
    }, NOW_MS);
    if (v === null) return 'null';
    if (typeof v === 'number') return L.format(v);
    return JSON.stringify(v);
}

let failed = 0;
for (const [expr, vals, want] of table) {
    const c = cEval(expr, vals);
    const j = jsEval(expr, vals);
    if (c !== want || j !== want) {
        console.log(`FAIL ${expr} ${JSON.stringify(vals)}: want ${want}, C ${c}, JS ${j}`);
        failed++;
    }
}
// 'today' and 'now' are the site's wall clock in both engines: at 2024-03-01 12:00 UTC it is
// already 2024-03-02 02:00 at a site on UTC+14 and 2024-03-01 01:00 at one on UTC-11. The C
// side is `protocol eval` under that TZ, --now the same instant as that zone's wall clock.
const zoned = [
    ['Pacific/Kiritimati', '2024-03-02 02:00:00', "datediff('2024-02-01', 'today', 'd')", '30'],
    ['Pacific/Kiritimati', '2024-03-02 02:00:00', "datediff('2024-03-02', 'now', 'h')", '2'],
    ['Pacific/Pago_Pago', '2024-03-01 01:00:00', "datediff('2024-02-01', 'today', 'd')", '29'],
    ['Pacific/Pago_Pago', '2024-03-01 01:00:00', "datediff('2024-03-01', 'now', 'h')", '1'],
];
for (const [zone, wall, expr, want] of zoned) {
    const c = execFileSync(bin, ['protocol', 'eval', '--json', '--now', wall, expr],
                           { encoding: 'utf8', env: { ...process.env, TZ: zone } }).trim();
    const js = execFileSync(bin, ['protocol', 'js', expr], { encoding: 'utf8' }).trim();
    const v = L.compile(js)(() => null, NOW_MS, zone);
    const j = v === null ? 'null' : L.format(v);
    if (c !== want || j !== want) {
        console.log(`FAIL ${expr} at ${zone}: want ${want}, C ${c}, JS ${j}`);
        failed++;
    }
}
console.log(`${table.length + zoned.length - failed}/${table.length + zoned.length} expressions agree`);
process.exit(failed ? 1 : 0);
