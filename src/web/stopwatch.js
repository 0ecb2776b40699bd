/* The IO-procedure stopwatch (page: /records/<id>/stopwatch).
 *
 * Every tap is a mark {kind, t, site, side} appended to a list kept in localStorage under
 * "ioheme.stopwatch.<record>" before anything else happens, so a reload, a crash of the tab or a
 * dropped Wi-Fi connection loses nothing. After each mark (and on "Save", and when the browser
 * comes back online) the marks are written through the JSON API into the IO placement form and
 * one IO attempt form per attempt. The instance numbers are fixed at the first save and kept in
 * the stored state, so a retry rewrites the same instances instead of creating new ones. A mark
 * counts as saved only when the server has answered 200 for everything. */
(function () {
    'use strict';

    var root = document.getElementById('stopwatch');
    if (!root) return;
    var record = root.getAttribute('data-record');
    var event = root.getAttribute('data-event');
    var csrf = root.getAttribute('data-csrf');
    var KEY = 'ioheme.stopwatch.' + record;
    var sites = JSON.parse(root.getAttribute('data-sites') || '[]');
    var sides = JSON.parse(root.getAttribute('data-sides') || '[]');

    var state = load();
    var saving = false, again = false;

    function fresh() {
        return {placement: null, attempt0: null, marks: [], site: null, side: null,
                savedVersion: 0, version: 0, savedAttempts: 0};
    }
    function load() {
        try {
            var s = JSON.parse(localStorage.getItem(KEY));
            if (s && Array.isArray(s.marks)) return s;
        } catch (e) { /* unreadable: start afresh */ }
        return fresh();
    }
    function persist() { localStorage.setItem(KEY, JSON.stringify(state)); }

    function pad(n) { return (n < 10 ? '0' : '') + n; }
    function stamp(ms) {
        var d = new Date(ms);
        return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
            pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
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

    /* What the marks mean: decision, attempts [{start, end, outcome, site, side}], confirm … */
    function derive() {
        var d = {decision: null, attempts: [], confirmed: null, infusion: null};
        state.marks.forEach(function (m) {
            if (m.kind === 'decision') d.decision = m.t;
            else if (m.kind === 'start') d.attempts.push({start: m.t, end: null, outcome: null, site: m.site, side: m.side});
            else if ((m.kind === 'success' || m.kind === 'failure') && d.attempts.length) {
                var a = d.attempts[d.attempts.length - 1];
                a.end = m.t;
                a.outcome = m.kind === 'success' ? '1' : '2';
            } else if (m.kind === 'confirmed') d.confirmed = m.t;
            else if (m.kind === 'infusion') d.infusion = m.t;
        });
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
        enable('start', d.decision !== null && !d.open && !d.success && state.site !== null);
        enable('success', d.open);
        enable('failure', d.open);
        enable('confirmed', d.success && d.confirmed === null);
        enable('infusion', d.success && d.infusion === null);
        var phase = document.getElementById('phase');
        if (d.decision === null) phase.textContent = 'Tap "Decision to use IO" to start the clock.';
        else if (state.site === null && !d.success) phase.textContent = 'Choose the site (and side) of the next attempt.';
        else if (d.open) phase.textContent = 'Attempt ' + d.attempts.length + ' in progress…';
        else if (!d.success) phase.textContent = d.attempts.length + ' attempt(s); ready for the next.';
        else if (d.confirmed === null) phase.textContent = 'Placed: confirm placement.';
        else if (d.infusion === null) phase.textContent = 'Confirmed: mark the first infusion.';
        else phase.textContent = 'Procedure complete.';

        ['sites', 'sides'].forEach(function (id) {
            root.querySelectorAll('#' + id + ' button').forEach(function (b) {
                var sel = id === 'sites' ? state.site : state.side;
                b.setAttribute('aria-pressed', b.getAttribute('data-code') === sel ? 'true' : 'false');
            });
        });

        var log = document.getElementById('log');
        log.textContent = '';
        var names = {decision: 'Decision to use IO', start: 'Skin puncture', success: 'Attempt succeeded',
                     failure: 'Attempt failed', confirmed: 'Placement confirmed', infusion: 'First infusion started'};
        var n = 0;
        state.marks.forEach(function (m) {
            var li = document.createElement('li');
            if (m.kind === 'start') n++;
            var extra = m.kind === 'start' ? ' — attempt ' + n + ', ' + label(sites, m.site) +
                (m.side ? ' (' + label(sides, m.side) + ')' : '') : '';
            li.textContent = stamp(m.t) + '  ' + names[m.kind] + extra +
                (d.decision !== null ? '  [+' + clock(m.t - d.decision) + ']' : '');
            log.appendChild(li);
        });
        var sync = document.getElementById('sync');
        if (!state.marks.length) {
            sync.textContent = '';
            sync.className = 'sync';
        } else if (state.savedVersion === state.version) {
            sync.textContent = 'Saved to ' + record + ': placement #' + state.placement + ', ' +
                d.attempts.length + ' attempt(s).';
            sync.className = 'sync saved';
        } else if (!saving) {
            sync.textContent = 'Kept on this tablet, not yet on the server' +
                (navigator.onLine ? '' : ' (offline)') + '. It will be sent automatically; or tap Save.';
            sync.className = 'sync pending';
        }
    }

    function tick() {
        var d = derive();
        var el = document.getElementById('elapsed');
        if (d.decision === null) el.textContent = '--:--';
        else el.textContent = clock((d.infusion || Date.now()) - d.decision);
    }

    function post(instance, values) {
        return fetch('/api/v1/records/' + encodeURIComponent(record) + '/values', {
            method: 'POST',
            credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
            /* no reason: once the form is complete, changes belong on the form, with the
             * user's own reason (the server answers reason_required) */
            body: JSON.stringify({event: event, instance: instance, values: values})
        }).then(function (res) {
            if (!res.ok) return res.json().then(function (j) {
                throw new Error((j.error && j.error.message) || ('HTTP ' + res.status));
            }, function () { throw new Error('HTTP ' + res.status); });
            return res.json();
        });
    }

    function save() {
        if (!state.marks.length) return;
        if (saving) { again = true; return; }
        if (state.placement === null) {
            state.placement = Number(root.getAttribute('data-next-placement'));
            state.attempt0 = Number(root.getAttribute('data-next-attempt'));
            persist();
        }
        var d = derive();
        var version = state.version;
        var success = d.success ? '1' : (d.attempts.length && !d.open ? '0' : '');
        var placed = d.attempts.filter(function (a) { return a.outcome === '1'; })[0] ||
            d.attempts[d.attempts.length - 1] || {};
        var jobs = [[state.placement, {
            iop_number: String(state.placement),
            iop_decision_dt: d.decision !== null ? stamp(d.decision) : '',
            iop_site: placed.site || '',
            iop_side: placed.side || '',
            iop_n_attempts: d.attempts.length ? String(d.attempts.length) : '',
            iop_success: success,
            iop_confirm_dt: d.confirmed !== null ? stamp(d.confirmed) : '',
            iop_inf_start_dt: d.infusion !== null ? stamp(d.infusion) : ''
        }]];
        var n = Math.max(d.attempts.length, state.savedAttempts || 0);
        for (var i = 0; i < n; i++) {
            var a = d.attempts[i];
            jobs.push([state.attempt0 + i, a ? {
                att_placement: String(state.placement), att_number: String(i + 1),
                att_site: a.site || '', att_side: a.side || '',
                att_start_dt: stamp(a.start), att_end_dt: a.end !== null ? stamp(a.end) : '',
                att_outcome: a.outcome || ''
            } : {att_placement: '', att_number: '', att_site: '', att_side: '',
                 att_start_dt: '', att_end_dt: '', att_outcome: ''}]);
        }
        saving = true;
        var sync = document.getElementById('sync');
        sync.textContent = 'Saving…';
        sync.className = 'sync pending';
        var chain = Promise.resolve();
        jobs.forEach(function (j) { chain = chain.then(function () { return post(j[0], j[1]); }); });
        chain.then(function () {
            saving = false;
            state.savedAttempts = d.attempts.length;
            if (state.version === version) state.savedVersion = version;
            persist();
            render();
            if (again || state.version !== version) { again = false; save(); }
        }, function (err) {
            saving = false;
            render();
            sync.textContent = 'Not saved yet — kept on this tablet (' + err.message + '). Tap Save to retry.';
            sync.className = 'sync failed';
        });
    }

    function mark(kind) {
        state.marks.push({kind: kind, t: Date.now(), site: state.site, side: state.side});
        state.version++;
        persist();
        render();
        tick();
        save();
    }

    function buttons(id, list, key) {
        var box = document.getElementById(id);
        list.forEach(function (c) {
            var b = document.createElement('button');
            b.type = 'button';
            b.textContent = c[1];
            b.setAttribute('data-code', c[0]);
            b.addEventListener('click', function () {
                state[key] = c[0];
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
    document.getElementById('save').addEventListener('click', save);
    document.getElementById('undo').addEventListener('click', function () {
        if (!state.marks.length) return;
        state.marks.pop();
        state.version++;
        persist();
        render();
        save();
    });
    document.getElementById('reset').addEventListener('click', function () {
        var unsaved = state.savedVersion !== state.version;
        if (state.marks.length && !window.confirm(unsaved
                ? 'Some marks are not on the server yet. Discard them and start a new placement?'
                : 'Start a new IO placement for ' + record + '?'))
            return;
        localStorage.removeItem(KEY);
        window.location.reload();
    });
    window.addEventListener('online', function () {
        if (state.savedVersion !== state.version) save();
    });
    render();
    tick();
    setInterval(tick, 250);
    if (state.marks.length && state.savedVersion !== state.version) save();
})();
