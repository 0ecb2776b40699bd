/* ioheme REDCap logic helpers for the browser: the runtime of the JavaScript that
 * `expr_to_js` (src/core/expr_js.c) emits for branching logic and calculated fields.
 *
 * Emitted code is one expression over the free variable L, e.g.
 *   L.ge(L.v(null,"age",null),18)
 * and every helper here has exactly the semantics of the C evaluator (src/core/expr_eval.c),
 * so the form shows and computes what the server will accept:
 *   - blank is null (an empty string from a field is blank too);
 *   - = and <> compare as numbers when both sides are numbers or numeric text, else as text;
 *     blank equals only blank;
 *   - < <= > >= are false when a side is blank; arithmetic with a blank or text is blank;
 *     division by zero and sqrt of a negative are blank;
 *   - and/or/not treat blank (and non-numeric text) as false and give 1 or 0;
 *   - min/max/sum/mean/median skip blanks; round/rounddown/roundup first cut the scaled value
 *     to 15 significant digits (as PHP does for REDCap), round half away from zero;
 *   - datediff(d1, d2, unit[, fmt][, signed]) is d2 - d1, a year being 365.2425 days and a
 *     month 30.44 days, blank when a date is blank or not a real date.
 * Text order uses JavaScript's string comparison (UTF-16 code units); the C side compares
 * UTF-8 bytes. They agree except between characters beyond U+FFFF and U+E000..U+FFFF.
 *
 * Usage:
 *   var f = IOHEME_LOGIC.compile(js);           // once per expression
 *   var value = f(function (event, field, code) { ... }, Date.now());
 *   IOHEME_LOGIC.truthy(value)  -> show the field?
 *   IOHEME_LOGIC.format(value)  -> text to put in a calc field ("" for blank)
 * compile() uses the Function constructor: a Content-Security-Policy must allow
 * 'unsafe-eval' for the page, or the emitted code must be served inside a script element. */
var IOHEME_LOGIC = (function () {
    'use strict';

    var NUM_RE = /^[ \t]*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[ \t]*$/;

    function isBlank(x) {
        return x === null || x === undefined || x === '' ||
            (typeof x === 'number' && !isFinite(x));
    }

    /* The number in x (a number or numeric text), or null. */
    function num(x) {
        if (typeof x === 'number')
            return isFinite(x) ? x : null;
        if (typeof x === 'string' && NUM_RE.test(x)) {
            var d = Number(x.trim());
            return isFinite(d) ? d : null;
        }
        return null;
    }

    function res(d) {
        return typeof d === 'number' && isFinite(d) ? d : null;
    }

    function truthy(x) {
        var d = num(x);
        return d !== null && d !== 0;
    }

    /* As expr_fmt_num: plain notation from 1e-6 to 1e15 with at most 15 significant digits and
     * no trailing zeros, else C's %.15g. */
    function format(x) {
        if (isBlank(x))
            return '';
        if (typeof x === 'string')
            return x;
        if (x === 0)
            return '0';
        var ax = Math.abs(x), s;
        if (ax < 1e15 && ax >= 1e-6) {
            var intdigits = ax >= 1 ? Math.floor(Math.log10(ax)) + 1 : 0;
            var dp = Math.max(15 - intdigits, 0);
            s = x.toFixed(dp);
            if (s.indexOf('.') >= 0)
                s = s.replace(/0+$/, '').replace(/\.$/, '');
            return s === '-0' ? '0' : s;
        }
        var parts = x.toExponential(14).split('e');
        var m = parts[0].indexOf('.') >= 0 ? parts[0].replace(/0+$/, '').replace(/\.$/, '')
            : parts[0];
        var e = parseInt(parts[1], 10);
        var ae = Math.abs(e);
        return m + 'e' + (e < 0 ? '-' : '+') + (ae < 10 ? '0' : '') + ae;
    }

    function text(x) {
        return format(x);
    }

    function eq(a, b) {
        if (isBlank(a) || isBlank(b))
            return isBlank(a) && isBlank(b) ? 1 : 0;
        var x = num(a), y = num(b);
        if (x !== null && y !== null)
            return x === y ? 1 : 0;
        return text(a) === text(b) ? 1 : 0;
    }

    function order(a, b) { /* -1, 0, 1, or null when a side is blank */
        if (isBlank(a) || isBlank(b))
            return null;
        var x = num(a), y = num(b);
        if (x === null || y === null) {
            x = text(a);
            y = text(b);
        }
        return x < y ? -1 : x > y ? 1 : 0;
    }

    function arith(a, b, f) {
        var x = num(a), y = num(b);
        return x === null || y === null ? null : res(f(x, y));
    }

    /* Howard Hinnant's days_from_civil, as the C side (Date.UTC maps years 0-99 to 19xx). */
    function daysFromCivil(y, m, d) {
        y -= m <= 2 ? 1 : 0;
        var era = Math.floor((y >= 0 ? y : y - 399) / 400);
        var yoe = y - era * 400;
        var doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
        var doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
        return era * 146097 + doe - 719468;
    }

    function daysInMonth(y, m) {
        var leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
        return m === 2 && leap ? 29 : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
    }

    /* Seconds since 1970-01-01 UTC, or null; as expr_parse_date. */
    function parseDate(s, fmt) {
        var r, y, m, d;
        var tm = '(?:[ T](\\d\\d):(\\d\\d)(?::(\\d\\d))?)?$';
        if (/^\d{4}-/.test(s) || fmt === 'ymd') {
            r = new RegExp('^(\\d{4})-(\\d\\d)-(\\d\\d)' + tm).exec(s);
            if (!r) return null;
            y = +r[1]; m = +r[2]; d = +r[3];
        } else {
            r = new RegExp('^(\\d\\d)-(\\d\\d)-(\\d{4})' + tm).exec(s);
            if (!r) return null;
            y = +r[3];
            m = fmt === 'mdy' ? +r[1] : +r[2];
            d = fmt === 'mdy' ? +r[2] : +r[1];
        }
        var hh = r[4] === undefined ? 0 : +r[4], mi = r[5] === undefined ? 0 : +r[5];
        var ss = r[6] === undefined ? 0 : +r[6];
        if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) || hh > 23 || mi > 59 || ss > 59)
            return null;
        return daysFromCivil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss;
    }

    var DIVISORS = {y: 86400 * 365.2425, M: 86400 * 30.44, d: 86400, h: 3600, m: 60, s: 1};

    function rounder(kind) {
        return function (v, dpArg) {
            var x = num(v), dp = 0;
            if (arguments.length > 1) {
                dp = num(dpArg);
                if (dp === null) return null;
            }
            if (x === null) return null;
            dp = Math.trunc(dp);
            if (dp > 15 || dp < -15) return null;
            var p10 = Math.pow(10, Math.abs(dp));
            var scaled = Number((dp >= 0 ? x * p10 : x / p10).toPrecision(15));
            var r = kind === 'round' ? (scaled < 0 ? -Math.round(-scaled) : Math.round(scaled))
                : kind === 'down' ? Math.floor(scaled) : Math.ceil(scaled);
            return res(dp >= 0 ? r / p10 : r * p10);
        };
    }

    function aggregate(f) {
        return function () {
            var vals = [];
            for (var i = 0; i < arguments.length; i++) {
                var d = num(arguments[i]);
                if (d !== null) vals.push(d);
            }
            return vals.length ? res(f(vals)) : null;
        };
    }

    function total(v) {
        var acc = v[0];
        for (var i = 1; i < v.length; i++) acc += v[i];
        return acc;
    }

    /* As expr_eval.c's text_has: ASCII case-insensitive, on the text of each side. */
    function has(h, n, where) {
        var fold = function (x) {
            return (isBlank(x) ? '' : text(x)).replace(/[A-Z]/g, function (c) {
                return c.toLowerCase();
            });
        };
        var a = fold(h), b = fold(n);
        if (b.length > a.length) return 0;
        if (where === 'start') return a.slice(0, b.length) === b ? 1 : 0;
        if (where === 'end') return a.slice(a.length - b.length) === b ? 1 : 0;
        return a.indexOf(b) >= 0 ? 1 : 0;
    }

    /* The text functions of expr_eval.c's fn_string: on characters (code points), blank for "". */
    function str(x) { return isBlank(x) ? '' : text(x); }
    function chars(x) { return Array.from(str(x)); }
    function orBlank(s) { return s === '' ? null : s; }
    function count(n) {
        var k = num(n);
        return k === null || Math.abs(k) >= 1e15 ? null : Math.trunc(k);
    }
    function ascii(s, up) {
        return s.replace(up ? /[a-z]/g : /[A-Z]/g, function (ch) {
            return up ? ch.toUpperCase() : ch.toLowerCase();
        });
    }

    /* year(), month(), day(): the number at that offset of a YYYY-MM-DD date, or blank. */
    function datePart(at) {
        return function (a) {
            if (typeof a !== 'string' || parseDate(a, 'ymd') === null) return null;
            return Number(a.slice(at, at === 0 ? 4 : at + 2));
        };
    }

    var H = {
        /* L.v is bound per evaluation by compile() */
        eq: eq,
        ne: function (a, b) { return eq(a, b) ? 0 : 1; },
        lt: function (a, b) { var c = order(a, b); return c !== null && c < 0 ? 1 : 0; },
        le: function (a, b) { var c = order(a, b); return c !== null && c <= 0 ? 1 : 0; },
        gt: function (a, b) { var c = order(a, b); return c !== null && c > 0 ? 1 : 0; },
        ge: function (a, b) { var c = order(a, b); return c !== null && c >= 0 ? 1 : 0; },
        add: function (a, b) { return arith(a, b, function (x, y) { return x + y; }); },
        sub: function (a, b) { return arith(a, b, function (x, y) { return x - y; }); },
        mul: function (a, b) { return arith(a, b, function (x, y) { return x * y; }); },
        div: function (a, b) {
            return arith(a, b, function (x, y) { return y === 0 ? null : x / y; });
        },
        pow: function (a, b) { return arith(a, b, Math.pow); },
        neg: function (a) { var x = num(a); return x === null ? null : res(-x); },
        not: function (a) { return truthy(a) ? 0 : 1; },
        and: function (a, b) { return truthy(a) && truthy(b) ? 1 : 0; },
        or: function (a, b) { return truthy(a) || truthy(b) ? 1 : 0; },
        iif: function (c, a, b) { return truthy(c) ? a : b; },
        round: rounder('round'),
        rounddown: rounder('down'),
        roundup: rounder('up'),
        abs: function (a) { var x = num(a); return x === null ? null : Math.abs(x); },
        sqrt: function (a) { var x = num(a); return x === null || x < 0 ? null : Math.sqrt(x); },
        isnumber: function (a) { return num(a) !== null ? 1 : 0; },
        isblank: function (a) { return isBlank(a) ? 1 : 0; },
        min: aggregate(function (v) { return v.reduce(function (p, c) { return c < p ? c : p; }); }),
        max: aggregate(function (v) { return v.reduce(function (p, c) { return c > p ? c : p; }); }),
        sum: aggregate(total),
        mean: aggregate(function (v) { return total(v) / v.length; }),
        stdev: function () { /* the sample standard deviation, blank under two values */
            var vals = [];
            for (var i = 0; i < arguments.length; i++) {
                var d = num(arguments[i]);
                if (d !== null) vals.push(d);
            }
            if (vals.length < 2) return null;
            var mean = total(vals) / vals.length, ss = 0;
            for (i = 0; i < vals.length; i++) ss += (vals[i] - mean) * (vals[i] - mean);
            return res(Math.sqrt(ss / (vals.length - 1)));
        },
        isinteger: function (a) {
            return num(a) !== null && /^ *[-+]?\d+ *$/.test(isBlank(a) ? '' : text(a)) ? 1 : 0;
        },
        log: function (a, b) {
            var x = num(a), base = arguments.length > 1 ? num(b) : Math.E;
            if (x === null || x <= 0 || base === null || base <= 0 || base === 1) return null;
            return res(Math.log(x) / Math.log(base));
        },
        concat: function () {
            var out = '';
            for (var i = 0; i < arguments.length; i++)
                out += isBlank(arguments[i]) ? '' : text(arguments[i]);
            return out === '' ? null : out;
        },
        contains: function (h, n) { return has(h, n, 'any'); },
        starts_with: function (h, n) { return has(h, n, 'start'); },
        ends_with: function (h, n) { return has(h, n, 'end'); },
        not_contain: function (h, n) { return has(h, n, 'any') ? 0 : 1; },
        left: function (a, n) {
            var k = count(n);
            return k === null || k <= 0 ? null : orBlank(chars(a).slice(0, k).join(''));
        },
        right: function (a, n) {
            var k = count(n), c = chars(a);
            return k === null || k <= 0 ? null : orBlank(c.slice(Math.max(c.length - k, 0)).join(''));
        },
        mid: function (a, s, n) {
            var i = count(s), k = count(n);
            if (i === null || k === null || i < 1 || k <= 0) return null;
            return orBlank(chars(a).slice(i - 1, i - 1 + k).join(''));
        },
        length: function (a) { return chars(a).length; },
        find: function (n, h) {
            var nd = ascii(str(n), false), hs = ascii(str(h), false);
            var at = nd === '' ? -1 : hs.indexOf(nd);
            return at < 0 ? 0 : Array.from(hs.slice(0, at)).length + 1;
        },
        upper: function (a) { return orBlank(ascii(str(a), true)); },
        lower: function (a) { return orBlank(ascii(str(a), false)); },
        trim: function (a) { return orBlank(str(a).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '')); },
        concat_ws: function (sep) {
            var parts = [];
            for (var i = 1; i < arguments.length; i++)
                if (!isBlank(arguments[i])) parts.push(text(arguments[i]));
            return orBlank(parts.join(str(sep)));
        },
        replace_text: function (h, f, w) {
            var find = str(f);
            return orBlank(find === '' ? str(h) : str(h).split(find).join(str(w)));
        },
        calctext: function (a) { return orBlank(str(a)); },
        mod: function (a, b) {
            var x = num(a), y = num(b);
            return x === null || y === null || y === 0 ? null : res(x % y);
        },
        exponential: function (a) { var x = num(a); return x === null ? null : res(Math.exp(x)); },
        ismissingcode: function () { return 0; }, /* no missing-data codes here */
        year: datePart(0),
        month: datePart(5),
        day: datePart(8),
        median: aggregate(function (v) {
            v.sort(function (p, c) { return p - c; });
            var n = v.length;
            return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        }),
        datediff: function (a, b, unit) {
            var fmt = 'ymd', signed = false, i, t = [];
            for (i = 3; i < arguments.length; i++) {
                var x = arguments[i];
                if (i === 3 && (x === 'ymd' || x === 'mdy' || x === 'dmy'))
                    fmt = x;
                else
                    signed = truthy(x) || x === 'true';
            }
            var ends = [a, b];
            for (i = 0; i < 2; i++) {
                var s = ends[i];
                if (isBlank(s) || typeof s !== 'string') return null;
                /* the site's wall clock, as the server's (sitetime_wall_from_ms) */
                var wall = wallMs(this.nowMs, this.zone);
                if (s === 'today') t[i] = Math.floor(wall / 86400000) * 86400;
                else if (s === 'now') t[i] = Math.floor(wall / 1000);
                else t[i] = parseDate(s, fmt);
                if (t[i] === null) return null;
            }
            if (typeof unit !== 'string' || !Object.prototype.hasOwnProperty.call(DIVISORS, unit))
                return null;
            var diff = (t[1] - t[0]) / DIVISORS[unit];
            return res(signed ? diff : Math.abs(diff));
        }
    };

    /* The wall clock of zone (an IANA name: the site's, <body data-site-tz>) at instant ms, as
     * ms since 1970-01-01 00:00 of that calendar: what 'today' and 'now' read, as the server's
     * sitetime_wall_from_ms. ms itself for UTC or no zone. */
    function wallMs(ms, zone) {
        if (!zone || zone === 'UTC') return ms;
        var p = {};
        new Intl.DateTimeFormat('en-US', {timeZone: zone, hourCycle: 'h23', year: 'numeric',
            month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
            second: '2-digit'}).formatToParts(new Date(ms)).forEach(function (x) {
            p[x.type] = x.value;
        });
        return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    }

    /* Turns emitted code into function(lookup, nowMs, zone) -> value (null, number or string);
     * zone is the site's time zone ('today' and 'now'), UTC when not given.
     * lookup(event, field, code, instance) gives a field's value: event null for [field], code
     * null unless a checkbox option ("1" ticked, "0" not), instance undefined unless the
     * reference names one (a number, or "first-instance", "last-instance",
     * "previous-instance", "next-instance", "current-instance"). */
    function compile(js) {
        var f = new Function('L', '"use strict"; return (' + js + ');');
        return function (lookup, nowMs, zone) {
            var L = Object.create(H);
            L.nowMs = typeof nowMs === 'number' ? nowMs : Date.now();
            L.zone = zone;
            L.v = function (event, field, code, instance) {
                if (event !== null && event !== undefined && event.indexOf('-') >= 0) {
                    /* [previous-event-name][f]: the event the smart variable names (expr_eval) */
                    var ev = lookup(null, event, null);
                    if (isBlank(ev)) return null;
                    event = String(ev);
                }
                var x = lookup(event, field, code, instance);
                return isBlank(x) ? null : x;
            };
            return f(L);
        };
    }

    return {compile: compile, truthy: truthy, format: format, num: num, helpers: H};
})();

if (typeof module !== 'undefined' && module.exports)
    module.exports = IOHEME_LOGIC;
