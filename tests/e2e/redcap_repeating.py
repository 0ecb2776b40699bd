"""Writes a classic REDCap project's repeating instruments, as REDCap exports them
(form_name,custom_form_label), from the project's own project.xml (CDISC ODM with redcap:
extensions), read by python's XML parser: the protocol's repeating.csv for a corpus case whose
flat export has repeat rows (redcap_corpus_data.sh, redcap_round_trip.sh).

Usage: redcap_repeating.py PROJECT.xml OUT.csv"""
import csv
import sys
import xml.etree.ElementTree as ET

R = '{https://projectredcap.org}'
with open(sys.argv[2], 'w', newline='') as out:
    w = csv.writer(out)
    w.writerow(['form_name', 'custom_form_label'])
    for e in ET.parse(sys.argv[1]).iter(R + 'RepeatingInstrument'):
        w.writerow([e.get(R + 'RepeatInstrument'), e.get(R + 'CustomLabel')])
