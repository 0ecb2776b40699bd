#!/bin/sh
# `ioheme export xpt` (issue 14): SDTM-like domains as SAS transport files, read back by readers
# nobody here wrote — R haven::read_xpt and pandas read_sas — and checked against the analysis
# dataset's CSVs (`ioheme dataset`) and the database itself (sqlite3 or psql): one DM row per
# enrolled subject with its age and sex, a PR row per insertion attempt, an EC row per infusion,
# VS and LB values equal to the stored ones, DM's SITEID the record's site, an AE row per complication with its grade;
# version 5 files (not ReadStat's default 8), names <= 8 characters, labels <= 40, values
# <= 200; haven and pandas read the same values; a second export is byte-identical; define.xml
# is well-formed XML that lists exactly the datasets and variables written; the export is
# audited with each file's SHA-256.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL xpt_export: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
# the study's protocol, with the country DM's COUNTRY names (study.csv)
cp -r "$IOHEME_SRC/protocols/io-heme" "$W/proto"
printf 'country,CHN\n' >>"$W/proto/study.csv"
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$W/proto" IOHEME_DB
I=$IOHEME
"$I" init --admin admin --synthetic >/dev/null
"$I" simulate --patients 60 --seed 14 >/dev/null
# one baseline panel drawn through the IO needle: its platelets go to SUPPLB as excluded
sid=$(test_sql "$IOHEME_DB" "SELECT r.study_id FROM value v JOIN record r ON r.id = v.record_id WHERE v.field = 'bl_plt' ORDER BY r.id LIMIT 1")
"$I" set "$sid" baseline bl_lab_source=4 --reason "sample from the IO needle" >/dev/null || fail "fixture: specimen source"
# a second hospital with one of the patients: DM's SITEID is the record's site
"$I" site add B02 --name "Second hospital" >/dev/null || fail "fixture: site"
"$I" site move "$sid" B02 --reason "transferred" >/dev/null || fail "fixture: site move"
# an "Other" complication with everything the form asks: its reported term, seriousness
# criteria, actions, outcome and end date go to AE
"$I" set "$sid" day7_arm_1:1 comp_assess=1 comp_placement=1 comp_type=99 \
    comp_type_oth="Periosteal necrosis" comp_onset=2025-03-10 comp_grade=3 comp_serious=1 \
    comp_sae_crit___3=1 comp_related=3 comp_action___2=1 comp_action___3=1 comp_outcome=4 \
    comp_resolved=2025-03-20 --reason "source: chart" >/dev/null || fail "fixture: complication"
"$I" export xpt --out "$W/x" >"$W/out" || fail "export: $(cat "$W/out")"
"$I" export xpt --out "$W/x2" >/dev/null || fail "second export"
for f in "$W"/x/*; do
    cmp -s "$f" "$W/x2/$(basename "$f")" || fail "$(basename "$f") differs between two exports"
    case "$f" in *.xpt)
        head -c 80 "$f" | grep -q '^HEADER RECORD\*\*\*\*\*\*\*LIBRARY HEADER RECORD!!!!!!!' || fail "$(basename "$f"): not a transport file"
        grep -q 'LIBV8' "$f" && fail "$(basename "$f"): version 8";;
    esac
done
"$I" dataset --out "$W/ds" >/dev/null || fail "dataset"
# R haven: every file to CSV, with each variable's name, label and width
Rscript --vanilla - "$W/x" "$W/r" <<'R' || fail "haven could not read the files"
suppressMessages(library(haven))
a <- commandArgs(TRUE); dir.create(a[2])
meta <- NULL
for (f in list.files(a[1], pattern = "\\.xpt$", full.names = TRUE)) {
  d <- read_xpt(f)
  m <- toupper(sub("\\.xpt$", "", basename(f)))
  write.csv(as.data.frame(d), file.path(a[2], paste0(m, ".csv")), row.names = FALSE, na = "")
  for (v in names(d)) {
    w <- if (is.character(d[[v]])) max(c(0, nchar(d[[v]], type = "bytes")), na.rm = TRUE) else 8
    meta <- rbind(meta, data.frame(dataset = m, name = v, label = attr(d[[v]], "label"),
                                   type = if (is.character(d[[v]])) "text" else "num", width = w))
  }
}
write.csv(meta, file.path(a[2], "_meta.csv"), row.names = FALSE)
R
/usr/bin/python3 - "$W" "$IOHEME_DB" "$sid" "$IOHEME_SRC/tests/e2e" <<'PY' || fail "the SDTM values"
import csv, glob, os, sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[4])
import testdb
import xml.etree.ElementTree as ET
import pandas as pd
W, db, io_sid = sys.argv[1:4]
def rows(p):
    return list(csv.DictReader(open(p, newline='', encoding='utf-8')))
R = {os.path.basename(p)[:-4]: rows(p) for p in glob.glob(f'{W}/r/*.csv') if not p.endswith('_meta.csv')}
meta = rows(f'{W}/r/_meta.csv')
ds = {os.path.basename(p)[:-4]: rows(p) for p in glob.glob(f'{W}/ds/*.csv')}
con = testdb.connect(db)
# names, labels, widths (SAS V5)
for m in meta:
    assert len(m['name']) <= 8 and m['name'] == m['name'].upper(), m
    assert 0 < len(m['label']) <= 40, m
    assert int(m['width']) <= 200, m
assert set(R) == {'DM', 'SUPPDM', 'DS', 'PR', 'SUPPPR', 'EC', 'SUPPEC', 'VS', 'LB', 'SUPPLB', 'AE'}, set(R)
subj = [s for s in ds['subjects']]
# DM: one row per enrolled subject, age and sex as the dataset has them
dm = {r['USUBJID']: r for r in R['DM']}
assert set(dm) == {'IO-HEME-' + s['subject_id'] for s in subj}, 'DM subjects'
for s in subj:
    d = dm['IO-HEME-' + s['subject_id']]
    assert d['STUDYID'] == 'IO-HEME' and d['DOMAIN'] == 'DM' and d['SUBJID'] == s['subject_id']
    assert d['COUNTRY'] == 'CHN', d['COUNTRY']
    assert (d['AGE'] or '') == (str(int(float(s['age']))) if s['age'] else ''), (d['AGE'], s['age'])
    assert d['SEX'] == {'male': 'M', 'female': 'F', '': 'U'}[s['sex']], (d['SEX'], s['sex'])
    assert d['RFSTDTC'] == s['t0'].replace(' ', 'T'), (d['RFSTDTC'], s['t0'])
    assert (d['DTHFL'] == 'Y') == (s['os_status'] == '1')
    # the others are at no site: no SITEID (01 is for a study without sites: test_dataset_stream)
    assert d['SITEID'] == ('B02' if s['subject_id'] == io_sid else ''), (d['SITEID'], s['subject_id'])
# PR: one row per attempt, start times and sites
att = ds['attempts']
assert len(R['PR']) == len(att), ('PR', len(R['PR']), len(att))
for p, a in zip(R['PR'], att):
    assert p['USUBJID'] == 'IO-HEME-' + a['subject_id'] and p['PRSTDTC'] == a['start_dt'].replace(' ', 'T'), (p, a)
    assert p['PRSPID'] == f"P{a['placement']}-A{a['attempt']}" and p['PRLOC'] == a['site'].upper().replace('_', ' ')
assert len(R['SUPPPR']) == sum(1 for a in att if a['success'] != ''), 'SUPPPR'
# EC: one row per infusion, the volume as the dose
inf = ds['infusions']
assert len(R['EC']) == len(inf)
for e, i in zip(R['EC'], inf):
    assert float(e['ECDOSE'] or 'nan') == float(i['volume_ml'] or 'nan') or (e['ECDOSE'] == i['volume_ml'] == ''), (e, i)
    assert e['ECROUTE'] == 'INTRAOSSEOUS' and e['ECDOSU'] == 'mL'
# VS: MAP, HR and SBP as the dataset has them at each time point
want = sorted((h['subject_id'], h['timepoint'], t, float(h[c])) for h in ds['haemodynamics']
              for t, c in (('MAP', 'map'), ('HR', 'hr'), ('SYSBP', 'sbp')) if h[c])
got = sorted((v['USUBJID'][len('IO-HEME-'):], v['VSTPT'], v['VSTESTCD'], float(v['VSSTRESN'])) for v in R['VS'])
assert want == got, ('VS', len(want), len(got))
# LB: the baseline values as stored (sqlite3 or psql), with the units and the specimen source
stored = {(sid, f): v for sid, f, v in con.execute(
    "SELECT r.study_id, v.field, v.value FROM value v JOIN record r ON r.id = v.record_id "
    "WHERE v.event = 'baseline_arm_1' AND v.field IN ('bl_hb','bl_plt','bl_wbc','bl_anc','bl_inr','bl_fib','bl_creat')")}
code = {'HGB': 'bl_hb', 'PLAT': 'bl_plt', 'WBC': 'bl_wbc', 'NEUT': 'bl_anc', 'INR': 'bl_inr', 'FIBRINO': 'bl_fib', 'CREAT': 'bl_creat'}
base = {(l['USUBJID'][len('IO-HEME-'):], code[l['LBTESTCD']]): l for l in R['LB'] if l['VISIT'] == 'BASELINE' and l['LBTESTCD'] in code}
enrolled = {s['subject_id'] for s in subj}
assert {k: v for k, v in stored.items() if k[0] in enrolled} == {k: l['LBORRES'] for k, l in base.items()}, 'LB baseline values'
assert float(base[(io_sid, 'bl_plt')]['LBSTRESN']) == float(stored[(io_sid, 'bl_plt')])
assert base[(io_sid, 'bl_plt')]['LBSPEC'] == 'INTRAOSSEOUS BLOOD'
excl = [s for s in R['SUPPLB'] if s['USUBJID'] == 'IO-HEME-' + io_sid and s['QNAM'] == 'LBEXCL']
assert any(s['IDVARVAL'] == base[(io_sid, 'bl_plt')]['LBSEQ'] for s in excl), 'IO-drawn platelets not marked excluded'
# LB: lactate at each time point, as the dataset has it
want = sorted((h['subject_id'], h['timepoint'], float(h['lactate'])) for h in ds['haemodynamics'] if h['lactate'])
got = sorted((l['USUBJID'][len('IO-HEME-'):], l['LBTPT'], float(l['LBSTRESN'])) for l in R['LB'] if l['LBTPT'])
assert want == got, ('LB lactate series', len(want), len(got))
# AE: one row per complication with its grade
cmp = ds['complications']
assert len(R['AE']) == len(cmp) and [a['AETOXGR'] for a in R['AE']] == [c['grade'] for c in cmp], 'AE'
# AE: outcome, end date, seriousness and actions as stored at the row's event and instance
# (AESPID "event #instance"); CDISC's OUT terms for the protocol's comp_outcome codes 1-6
def comp(field):
    return {(s, e, str(i)): v for s, e, i, v in con.execute(
        "SELECT r.study_id, v.event, v.instance, v.value FROM value v JOIN record r ON r.id = v.record_id "
        "WHERE v.field = ?", (field,))}
def ticked(field):
    out = {}
    for s, e, i, c in con.execute(
            "SELECT r.study_id, v.event, v.instance, v.code FROM value v JOIN record r ON r.id = v.record_id "
            "WHERE v.field = ? AND v.value = '1'", (field,)):
        out.setdefault((s, e, str(i)), set()).add(c)
    return out
OUT = {'1': 'RECOVERED/RESOLVED', '2': 'RECOVERING/RESOLVING', '3': 'NOT RECOVERED/NOT RESOLVED',
       '4': 'RECOVERED/RESOLVED WITH SEQUELAE', '5': 'FATAL', '6': 'UNKNOWN'}
outc, end, ser, oth = comp('comp_outcome'), comp('comp_resolved'), comp('comp_serious'), comp('comp_type_oth')
crit, acts = ticked('comp_sae_crit'), ticked('comp_action')
ACT = [('2', 'IO NEEDLE REMOVED'), ('3', 'ANTIBIOTICS'), ('4', 'SURGICAL INTERVENTION'), ('5', 'OTHER TREATMENT')]
for a in R['AE']:
    ev, inst = a['AESPID'].split(' #')
    k = (a['USUBJID'][len('IO-HEME-'):], ev, inst)
    assert a['AEOUT'] == OUT.get(outc.get(k), ''), (k, a['AEOUT'], outc.get(k))
    assert a['AEENDTC'] == end.get(k, ''), (k, a['AEENDTC'])
    for var, c in (('AESDTH', '1'), ('AESLIFE', '2'), ('AESHOSP', '3'), ('AESDISAB', '4'), ('AESMIE', '5')):
        want_flag = 'Y' if c in crit.get(k, set()) else 'N' if ser.get(k) == '1' else ''
        assert a[var] == want_flag, (k, var, a[var])
    assert a['AEACNOTH'] == '; '.join(t for c, t in ACT if c in acts.get(k, set())), (k, a['AEACNOTH'])
    if k in oth:
        assert a['AETERM'] == oth[k] and a['AEDECOD'] == 'OTHER', (k, a['AETERM'])
other = [a for a in R['AE'] if a['AETERM'] == 'Periosteal necrosis']
assert len(other) == 1 and other[0]['AEOUT'] == 'RECOVERED/RESOLVED WITH SEQUELAE' and \
    other[0]['AESHOSP'] == 'Y' and other[0]['AESDTH'] == 'N' and \
    other[0]['AEACNOTH'] == 'IO NEEDLE REMOVED; ANTIBIOTICS' and other[0]['AEENDTC'] == '2025-03-20', other
# VS and the lactate series: the time of measurement stored at the time point's event
TP = {'T0': 't0_arm_1', '15min': 't15min_arm_1', '30min': 't30min_arm_1', '60min': 't60min_arm_1',
      '6h': 't6h_arm_1', '24h': 't24h_arm_1'}
hd_dt = {(s, e): v.replace(' ', 'T') for (s, e, i), v in comp('hd_dt').items()}
evs = rows(os.environ['IOHEME_PROTOCOL'] + '/events.csv')
visit = {e['unique_event_name']: (str(i + 1), e['custom_event_label'] or e['event_name']) for i, e in enumerate(evs)}
for v in R['VS']:
    assert v['VSDTC'] == hd_dt.get((v['USUBJID'][len('IO-HEME-'):], TP[v['VSTPT']]), ''), v
    assert (v['VISITNUM'], v['VISIT']) == visit[TP[v['VSTPT']]], (v['VISITNUM'], v['VISIT'], v['VSTPT'])
for l in R['LB']:
    if l['LBTPT']:
        assert l['LBDTC'] == hd_dt.get((l['USUBJID'][len('IO-HEME-'):], TP[l['LBTPT']]), '') and l['LBSPEC'] == 'BLOOD', l
assert sum(1 for v in R['VS'] if v['VSDTC']) > len(R['VS']) // 2, 'VSDTC mostly empty'
# DS: consent for everyone, an end of study where the database has one
eos = con.execute("SELECT count(*) FROM value v JOIN record r ON r.id = v.record_id WHERE v.field = 'eos_status' AND r.study_id IS NOT NULL").fetchone()[0]
assert sum(1 for d in R['DS'] if d['DSCAT'] == 'PROTOCOL MILESTONE') == len(subj) and sum(1 for d in R['DS'] if d['DSCAT'] == 'DISPOSITION EVENT') == eos, 'DS'
# pandas reads the same values as haven
for m, rr in R.items():
    df = pd.read_sas(f'{W}/x/{m.lower()}.xpt', format='xport', encoding='utf-8')
    assert len(df) == len(rr), (m, len(df), len(rr))
    for col in df.columns:
        for i, r in enumerate(rr):
            a, b = df[col].iloc[i], r[col]
            if isinstance(a, str):
                assert a == b, (m, col, i, a, b)
            else:
                assert (pd.isna(a) and b == '') or abs(float(a) - float(b)) < 1e-9, (m, col, i, a, b)
# define.xml lists exactly what was written
ns = {'o': 'http://www.cdisc.org/ns/odm/v1.3'}
root = ET.parse(f'{W}/x/define.xml').getroot()
groups = {g.get('Name'): [r.get('ItemOID') for r in g.findall('o:ItemRef', ns)] for g in root.iter('{%s}ItemGroupDef' % ns['o'])}
assert set(groups) == set(R), set(groups)
for m, oids in groups.items():
    assert [o.split('.')[-1] for o in oids] == [x['name'] for x in meta if x['dataset'] == m], m
items = {i.get('OID') for i in root.iter('{%s}ItemDef' % ns['o'])}
title = [l.split(',', 1)[1].strip() for l in open(os.environ['IOHEME_PROTOCOL'] + '/study.csv') if l.startswith('title,')][0]
assert root.find('o:Study/o:GlobalVariables/o:StudyDescription', ns).text == title, 'define.xml StudyDescription'
# Mandatory as SDTMIG 3.2's "Req" variables: identifiers, --SEQ, --TESTCD/--TEST, topics
mand = {(g.get('Name'), r.get('ItemOID').split('.')[-1]): r.get('Mandatory')
        for g in root.iter('{%s}ItemGroupDef' % ns['o']) for r in g.findall('o:ItemRef', ns)}
for k in [('DM', 'USUBJID'), ('DM', 'SEX'), ('DM', 'ARMCD'), ('DM', 'COUNTRY'), ('AE', 'AESEQ'), ('AE', 'AETERM'),
          ('AE', 'AEDECOD'), ('VS', 'VSTESTCD'), ('VS', 'VSTEST'), ('LB', 'LBTESTCD'),
          ('SUPPDM', 'QNAM'), ('SUPPDM', 'QVAL'), ('DS', 'DSDECOD'), ('PR', 'PRTRT')]:
    assert mand[k] == 'Yes', (k, mand[k])
for k in [('AE', 'AETOXGR'), ('AE', 'AEOUT'), ('VS', 'VSDTC'), ('DM', 'AGE'), ('DS', 'DSCAT')]:
    assert mand[k] == 'No', (k, mand[k])
assert all(o in items for oids in groups.values() for o in oids), 'an ItemRef without its ItemDef'
PY
xmllint --noout "$W/x/define.xml" || fail "define.xml is not well-formed"
sha=$(sha256sum "$W/x/dm.xpt" | cut -d' ' -f1)
[ "$(test_sql "$IOHEME_DB" "SELECT count(*) FROM audit WHERE action = 'export' AND field = 'export xpt' AND new_value LIKE '%dm $sha%'")" -ge 1 ] ||
    fail "the export is not audited with dm.xpt's SHA-256: $(test_sql "$IOHEME_DB" "SELECT field, new_value FROM audit WHERE action = 'export' ORDER BY id DESC LIMIT 1")"
echo "xpt_export: ok"
