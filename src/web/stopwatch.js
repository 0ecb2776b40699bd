/* The IO-procedure stopwatch (page: /records/<id>/stopwatch).
 *
 * The server is the truth: the page loads the latest IO placement and its taps from
 * GET /api/v1/records/<id>/stopwatch, shows the clock running from the stored decision time,
 * and sends every tap as an instant (ms since 1970, UTC) to POST .../stopwatch, which writes it
 * as the site's wall-clock into the placement and attempt forms; the browser's own time zone
 * never matters. Taps wait in a queue in localStorage ("ioheme.stopwatch.<record>") until the
 * server has answered, so a reload or a dropped Wi-Fi connection loses nothing; the queue is
 * sent again when the connection returns. Every few seconds the page reads the server's state
 * again, so two tablets on one procedure converge (the last write of each tap wins). A
 * "Decision" while another placement is open on the server asks before it starts a new one. */
(function () {
    'use strict';

    var root = document.getElementById('stopwatch');
    if (!root) return;
    var record = root.getAttribute('data-record');
    var csrf = root.getAttribute('data-csrf');
    var zone = document.body.getAttribute('data-site-tz') || 'UTC';
    var KEY = 'ioheme.stopwatch.' + record;
    var URL = '/api/v1/records/' + encodeURIComponent(record) + '/stopwatch';
    var sites = JSON.parse(root.getAttribute('data-sites') || '[]');
    var sides = JSON.parse(root.getAttribute('data-sides') || '[]');

    var local = load();   /* {placement, fresh, queue: [tap], site, side} */
    var server = null;    /* the last state the server sent; first the one in the page */
    try { server = JSON.parse(root.getAttribute('data-state') || 'null'); } catch (e) { server = null; }
    var sending = false, error = '';

    function load() {
        try {
            var s = JSON.parse(localStorage.getItem(KEY));
            if (s && Array.isArray(s.queue)) return s;
        } catch (e) { /* unreadable: start afresh */ }
        return {placement: null, fresh: false, queue: [], site: null, side: null};
    }
    function persist() { localStorage.setItem(KEY, JSON.stringify(local)); }

    function pad(n) { return (n < 10 ? '0' : '') + n; }
    var fmt = null;
    try {
        fmt = new Intl.DateTimeFormat('en-GB', {timeZone: zone, year: 'numeric', month: '2-digit',
            day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'});
    } catch (e) { fmt = null; }
    /* an instant as the site's wall-clock, "YYYY-MM-DD HH:MM:SS" */
    function stamp(ms) {
        if (!fmt) return new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
        var p = {};
        fmt.formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
        return p.year + '-' + p.month + '-' + p.day + ' ' + p.hour + ':' + p.minute + ':' + p.second;
    }
    function clock(ms) {
        var s = Math.max(0, Math.floor(ms / 1000));
        var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
        return (h ? h + ':' + pad(m) : pad(m)) + ':' + pad(s % 60);
    }
    function label(list, code) {
        for (var i = 0; i < list.length; i++) if (list[i][0] === code) return list[i][1];
        return '';
    }

    /* The placement this tablet shows: the server's latest unless the user chose a new one. */
    function shown() {
        var p = server && server.placement;
        if (!p || local.fresh) return null;
        if (local.placement !== null && local.placement !== p.instance) return null;
        return p;
    }

    /* The procedure as marks: the server's taps, then the queued ones. */
    function derive() {
        var d = {decision: null, attempts: [], confirmed: null, infusion: null, marks: []};
        var p = shown();
        function ms(w) { return w && w.ms !== null && w.ms !== undefined ? w.ms : null; }
        if (p) {
            d.decision = ms(p.decision);
            if (d.decision !== null) d.marks.push({kind: 'decision', t: d.decision});
            p.attempts.slice().sort(function (a, b) { return a.number - b.number; }).forEach(function (a) {
                var x = {number: a.number, start: ms(a.start), end: ms(a.end), outcome: a.outcome,
                         site: a.site, side: a.side};
                d.attempts[a.number - 1] = x;
                if (x.start !== null) d.marks.push({kind: 'start', t: x.start, attempt: a.number, site: a.site, side: a.side});
                if (x.end !== null) d.marks.push({kind: a.outcome === '1' ? 'success' : 'failure', t: x.end, attempt: a.number});
            });
            d.confirmed = ms(p.confirmed);
            d.infusion = ms(p.infusion);
            if (d.confirmed !== null) d.marks.push({kind: 'confirmed', t: d.confirmed});
            if (d.infusion !== null) d.marks.push({kind: 'infusion', t: d.infusion});
        }
        local.queue.forEach(function (q) {
            var m = {kind: q.tap, t: q.at_ms, attempt: q.attempt, site: q.site, side: q.side, pending: true};
            if (q.tap === 'decision') d.decision = q.at_ms;
            else if (q.tap === 'start') d.attempts[q.attempt - 1] = {number: q.attempt, start: q.at_ms, end: null, outcome: null, site: q.site, side: q.side};
            else if ((q.tap === 'success' || q.tap === 'failure') && d.attempts[q.attempt - 1]) {
                d.attempts[q.attempt - 1].end = q.at_ms;
                d.attempts[q.attempt - 1].outcome = q.tap === 'success' ? '1' : '2';
            } else if (q.tap === 'confirmed') d.confirmed = q.at_ms;
            else if (q.tap === 'infusion') d.infusion = q.at_ms;
            d.marks = d.marks.filter(function (x) {
                return !(x.kind === q.tap && (x.attempt || 0) === (q.attempt || 0)) &&
                    !((q.tap === 'success' || q.tap === 'failure') && (x.kind === 'success' || x.kind === 'failure') && x.attempt === q.attempt);
            });
            d.marks.push(m);
        });
        d.attempts = d.attempts.filter(function (a) { return a; });
        d.marks.sort(function (a, b) { return a.t - b.t; });
        var last = d.attempts[d.attempts.length - 1];
        d.open = !!(last && last.end === null);
        d.success = d.attempts.some(function (a) { return a.outcome === '1'; });
        return d;
    }

    function enable(kind, on) {
        var b = root.querySelector('[data-mark="' + kind + '"]');
        if (b) b.disabled = !on;
    }

    function render() {
        var d = derive();
        enable('decision', d.decision === null);
        enable('start', d.decision !== null && !d.open && !d.success && local.site !== null);
        enable('success', d.open);
        enable('failure', d.open);
        enable('confirmed', d.success && d.confirmed === null);
        enable('infusion', d.success && d.infusion === null);
        var phase = document.getElementById('phase');
        if (!server && !local.queue.length) phase.textContent = 'Loading the procedure from the server…';
        else if (d.decision === null) phase.textContent = 'Tap "Decision to use IO" to start the clock.';
        else if (local.site === null && !d.success && !d.open) phase.textContent = 'Choose the site (and side) of the next attempt.';
        else if (d.open) phase.textContent = 'Attempt ' + d.attempts.length + ' in progress…';
        else if (!d.success) phase.textContent = d.attempts.length + ' attempt(s); ready for the next.';
        else if (d.confirmed === null) phase.textContent = 'Placed: confirm placement.';
        else if (d.infusion === null) phase.textContent = 'Confirmed: mark the first infusion.';
        else phase.textContent = 'Procedure complete.';

        ['sites', 'sides'].forEach(function (id) {
            root.querySelectorAll('#' + id + ' button').forEach(function (b) {
                var sel = id === 'sites' ? local.site : local.side;
                b.setAttribute('aria-pressed', b.getAttribute('data-code') === sel ? 'true' : 'false');
            });
        });

        var log = document.getElementById('log');
        log.textContent = '';
        var names = {decision: 'Decision to use IO', start: 'Skin puncture', success: 'Attempt succeeded',
                     failure: 'Attempt failed', confirmed: 'Placement confirmed', infusion: 'First infusion started'};
        d.marks.forEach(function (m) {
            var li = document.createElement('li');
            li.setAttribute('data-kind', m.kind);
            var extra = m.kind === 'start' ? ' — attempt ' + m.attempt + ', ' + label(sites, m.site) +
                (m.side ? ' (' + label(sides, m.side) + ')' : '') : '';
            li.textContent = stamp(m.t) + '  ' + names[m.kind] + extra +
                (d.decision !== null ? '  [+' + clock(m.t - d.decision) + ']' : '') +
                (m.pending ? '  (not yet on the server)' : '');
            log.appendChild(li);
        });
        var sync = document.getElementById('sync');
        var p = shown();
        if (error) {
            sync.textContent = 'Not saved yet — kept on this tablet (' + error + '). Tap Save to retry.';
            sync.className = 'sync failed';
        } else if (local.queue.length) {
            sync.textContent = 'Kept on this tablet, not yet on the server' +
                (navigator.onLine ? '' : ' (offline)') + '. It will be sent automatically; or tap Save.';
            sync.className = 'sync pending';
        } else if (p) {
            sync.textContent = 'Saved to ' + record + ': placement #' + p.instance + ', ' +
                d.attempts.length + ' attempt(s). Times are ' + zone + ' time.';
            sync.className = 'sync saved';
        } else {
            sync.textContent = '';
            sync.className = 'sync';
        }
    }

    function tick() {
        var d = derive();
        var el = document.getElementById('elapsed');
        if (d.decision === null) el.textContent = '--:--';
        else el.textContent = clock((d.infusion || Date.now()) - d.decision);
    }

    function request(method, body) {
        return fetch(URL, {
            method: method, credentials: 'same-origin',
            headers: method === 'POST' ? {'Content-Type': 'application/json', 'X-CSRF-Token': csrf} : {},
            body: body ? JSON.stringify(body) : undefined
        }).then(function (res) {
            return res.json().then(function (j) {
                if (!res.ok) {
                    var err = new Error((j.error && j.error.message) || ('HTTP ' + res.status));
                    err.status = res.status;
                    err.code = j.error && j.error.code;
                    throw err;
                }
                return j;
            }, function () { throw new Error('HTTP ' + res.status); });
        });
    }

    function adopt(state) {
        server = state;
        var p = state.placement;
        /* follow the server's latest placement (another tablet may have started a new one),
         * unless this tablet holds taps for its own or is starting a new one */
        if (p && !local.fresh && !local.queue.length) local.placement = p.instance;
        persist();
        render();
        tick();
    }

    /* Sends the queue, oldest tap first. */
    function send() {
        if (sending || !local.queue.length) return;
        sending = true;
        var q = local.queue[0];
        var body = {tap: q.tap, at_ms: q.at_ms};
        if (q.tap !== 'decision' || local.placement !== null && !local.fresh) body.placement = local.placement;
        if (q.tap === 'decision' && (local.fresh || local.placement === null)) {
            delete body.placement;
            if (q.new_placement) body.new_placement = true;
        }
        if (q.attempt) body.attempt = q.attempt;
        if (q.site) body.site = q.site;
        if (q.side) body.side = q.side;
        request('POST', body).then(function (state) {
            sending = false;
            error = '';
            local.queue.shift();
            if (q.tap === 'decision' && body.placement === undefined && state.placement) {
                local.placement = state.placement.instance;
                local.fresh = false;
            }
            adopt(state);
            send();
        }, function (err) {
            sending = false;
            if (err.code === 'conflict' && q.tap === 'decision' && !q.new_placement) {
                if (window.confirm(err.message + '\n\nOK: start a new placement. Cancel: continue the open one.')) {
                    q.new_placement = true;
                } else {
                    local.queue.shift();
                    local.fresh = false;
                    local.placement = null;
                }
                persist();
                refresh().then(send);
                return;
            }
            error = err.message;
            render();
        });
    }

    function refresh() {
        return request('GET').then(adopt, function (err) { error = err.message; render(); });
    }

    function mark(kind) {
        var d = derive();
        var q = {tap: kind, at_ms: Date.now()};
        if (kind === 'decision' && local.fresh) q.new_placement = true;
        if (kind === 'start') {
            q.attempt = d.attempts.length + 1;
            q.site = local.site;
            q.side = local.side;
        } else if (kind === 'success' || kind === 'failure') {
            q.attempt = d.attempts.length;
        }
        local.queue.push(q);
        persist();
        render();
        tick();
        send();
    }

    function buttons(id, list, key) {
        var box = document.getElementById(id);
        list.forEach(function (c) {
            var b = document.createElement('button');
            b.type = 'button';
            b.textContent = c[1];
            b.setAttribute('data-code', c[0]);
            b.addEventListener('click', function () {
                local[key] = c[0];
                persist();
                render();
            });
            box.appendChild(b);
        });
    }

    buttons('sites', sites, 'site');
    buttons('sides', sides, 'side');
    root.querySelectorAll('[data-mark]').forEach(function (b) {
        b.addEventListener('click', function () { mark(b.getAttribute('data-mark')); });
    });
    document.getElementById('save').addEventListener('click', function () { error = ''; send(); });
    document.getElementById('undo').addEventListener('click', function () {
        if (local.queue.length) {           /* not sent yet: just drop it */
            local.queue.pop();
            persist();
            render();
            return;
        }
        var d = derive(), m = d.marks[d.marks.length - 1];
        if (!m || local.placement === null) return;
        var body = {tap: m.kind, undo: true, placement: local.placement};
        if (m.attempt) body.attempt = m.attempt;
        request('POST', body).then(adopt, function (err) { error = err.message; render(); });
    });
    document.getElementById('reset').addEventListener('click', function () {
        var p = shown();
        if (local.queue.length && !window.confirm('Some marks are not on the server yet. Discard them and start a new placement?'))
            return;
        if (!local.queue.length && p && !window.confirm('Start a new IO placement for ' + record +
                (p.open ? ' (placement #' + p.instance + ' is not finished)' : '') + '?'))
            return;
        local = {placement: null, fresh: !!p, queue: [], site: null, side: null};
        persist();
        render();
        tick();
    });
    window.addEventListener('online', send);
    if (server) adopt(server);
    render();
    tick();
    setInterval(tick, 250);
    /* converge with other tablets on the same procedure */
    setInterval(function () { if (!sending && !local.queue.length) refresh(); }, 4000);
    refresh().then(send);
})();
