#!/usr/bin/env python3
"""Static checker for the io-heme protocol folder (stdlib only).

Usage: python3 check.py [protocol_dir]      (default: the folder this script is in)

Checks dictionary.csv, events.csv, form_events.csv and repeating.csv against the rules of
the engine's loader (src/core/dict.h, src/core/expr.h) and REDCap's data-dictionary format.
Prints every problem as "file:line: message" and exits 1 if there is any; prints a one-line
summary and exits 0 when clean.
"""
import csv
import os
import re
import sys
from datetime import datetime

HEADER = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
          "Choices, Calculations, OR Slider Labels", "Field Note",
          "Text Validation Type OR Show Slider Number", "Text Validation Min",
          "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
          "Required Field?", "Custom Alignment", "Question Number (surveys only)",
          "Matrix Group Name", "Matrix Ranking?", "Field Annotation"]
EVENTS_HEADER = ["event_name", "arm_num", "day_offset", "offset_min", "offset_max",
                 "unique_event_name", "custom_event_label"]
FORM_EVENTS_HEADER = ["arm_num", "unique_event_name", "form"]
REPEATING_HEADER = ["event_name", "form_name", "custom_form_label"]

FIELD_TYPES = {"text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse", "calc",
               "descriptive"}
CHOICE_TYPES = {"dropdown", "radio", "checkbox"}
VALIDATIONS = {"integer", "number", "number_1dp", "date_ymd", "datetime_ymd",
               "datetime_seconds_ymd", "time"}
NUMERIC_V = {"integer", "number", "number_1dp"}
ACTION_TAGS = {"@FORCE-MINMAX", "@READONLY", "@HIDDEN", "@DEFAULT", "@NOW", "@TODAY",
               "@INCLUSION", "@EXCLUSION", "@ELIGIBLE"}
# function name -> (min args, max args); None = unbounded
FUNCTIONS = {"if": (3, 3), "datediff": (3, 5), "round": (1, 2), "rounddown": (1, 2),
             "roundup": (1, 2), "abs": (1, 1), "min": (1, None), "max": (1, None),
             "sum": (1, None), "mean": (1, None), "sqrt": (1, 1), "isnumber": (1, 1),
             "isblankormissingcode": (1, 1)}
DATEDIFF_UNITS = {"y", "M", "d", "h", "m", "s"}
DATEDIFF_FMTS = {"ymd", "mdy", "dmy"}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
CHECKBOX_CODE_RE = re.compile(r"^[A-Za-z0-9_]+$")
MAX_NAME = 26

problems = []


def err(fname, line, msg):
    problems.append(f"{fname}:{line}: {msg}")


# ------------------------------------------------------------------ logic language
class LogicError(Exception):
    def __init__(self, col, msg):
        super().__init__(msg)
        self.col = col
        self.msg = msg


TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<ref>\[[^\[\]]*\])
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
  | (?P<str>"[^"]*"|'[^']*')
  | (?P<op><>|!=|<=|>=|&&|\|\||[=<>+\-*/^(),!])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
""", re.X)


def tokenize(src):
    toks, i = [], 0
    while i < len(src):
        m = TOKEN_RE.match(src, i)
        if not m:
            ch = src[i]
            if ch in "\"'":
                raise LogicError(i + 1, "unterminated string")
            if ch == "[":
                raise LogicError(i + 1, "unbalanced '['")
            if ch == "]":
                raise LogicError(i + 1, "unbalanced ']'")
            raise LogicError(i + 1, f"unexpected character {ch!r}")
        kind = m.lastgroup
        if kind != "ws":
            toks.append((kind, m.group(), i + 1))
        i = m.end()
    toks.append(("end", "", len(src) + 1))
    return toks


class Parser:
    """Recursive descent over REDCap logic; collects references and comparisons."""

    def __init__(self, src):
        self.t = tokenize(src)
        self.i = 0
        self.refs = []          # (event, field, code, col)
        self.compares = []      # (ref tuple, literal text, col)
        self.funcs = []         # (name, col)

    def peek(self, k=0):
        return self.t[self.i + k]

    def take(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def expect(self, val):
        tok = self.take()
        if tok[1] != val:
            raise LogicError(tok[2], f"expected '{val}', found '{tok[1] or 'end'}'")
        return tok

    def parse(self):
        if self.peek()[0] == "end":
            raise LogicError(1, "empty expression")
        node = self.or_()
        tok = self.peek()
        if tok[0] != "end":
            raise LogicError(tok[2], f"unexpected '{tok[1]}'")
        return node

    def or_(self):
        n = self.and_()
        while self.peek()[1].lower() in ("or", "||"):
            self.take()
            n = ("op", "or", n, self.and_())
        return n

    def and_(self):
        n = self.not_()
        while self.peek()[1].lower() in ("and", "&&"):
            self.take()
            n = ("op", "and", n, self.not_())
        return n

    def not_(self):
        if self.peek()[1].lower() in ("not", "!"):
            self.take()
            return ("not", self.not_())
        return self.cmp()

    def cmp(self):
        left = self.add()
        tok = self.peek()
        if tok[1] in ("=", "<>", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.add()
            for a, b in ((left, right), (right, left)):
                if a[0] == "ref" and b[0] in ("str", "num"):
                    self.compares.append((a[1], tok[1], b[1], tok[2]))
            return ("op", tok[1], left, right)
        return left

    def add(self):
        n = self.mul()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            n = ("op", op, n, self.mul())
        return n

    def mul(self):
        n = self.pow()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            n = ("op", op, n, self.pow())
        return n

    def pow(self):
        n = self.unary()
        while self.peek()[1] == "^":
            self.take()
            n = ("op", "^", n, self.unary())
        return n

    def unary(self):
        if self.peek()[1] == "-":
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        kind, val, col = self.take()
        if kind == "num":
            return ("num", val)
        if kind == "str":
            return ("str", val[1:-1])
        if kind == "ref":
            return self.ref(val, col)
        if val == "(":
            n = self.or_()
            self.expect(")")
            return n
        if kind == "ident":
            low = val.lower()
            if self.peek()[1] == "(":
                if low not in FUNCTIONS:
                    raise LogicError(col, f"unknown function '{val}'")
                self.take()
                args = []
                if self.peek()[1] != ")":
                    args.append(self.or_())
                    while self.peek()[1] == ",":
                        self.take()
                        args.append(self.or_())
                self.expect(")")
                lo, hi = FUNCTIONS[low]
                if len(args) < lo or (hi is not None and len(args) > hi):
                    raise LogicError(col, f"{low}() takes {lo}" + ("" if hi == lo else f"–{hi or 'n'}")
                                     + f" arguments, got {len(args)}")
                if low == "datediff":
                    if args[2][0] != "str" or args[2][1] not in DATEDIFF_UNITS:
                        raise LogicError(col, "datediff() unit must be one of \"y\" \"M\" \"d\" \"h\" \"m\" \"s\"")
                    if len(args) >= 4 and (args[3][0] != "str" or args[3][1] not in DATEDIFF_FMTS):
                        raise LogicError(col, "datediff() format must be \"ymd\", \"mdy\" or \"dmy\"")
                self.funcs.append((low, col))
                return ("call", low, args)
            if low in ("today", "now"):
                return ("str", low)
            raise LogicError(col, f"unexpected word '{val}'")
        raise LogicError(col, f"unexpected '{val or 'end'}'")

    def ref(self, val, col):
        inner = val[1:-1].strip()
        event = None
        nxt = self.peek()
        # [event][field]: two adjacent bracket groups
        if nxt[0] == "ref" and nxt[2] == col + len(val):
            self.take()
            event, inner = inner, nxt[1][1:-1].strip()
        m = re.fullmatch(r"([A-Za-z0-9_]+)(?:\(([^()]*)\))?", inner)
        if not m:
            raise LogicError(col, f"malformed field reference '{val}'")
        r = (event, m.group(1), m.group(2), col)
        self.refs.append(r)
        return ("ref", r)


def parse_logic(src):
    p = Parser(src)
    p.parse()
    return p


# ------------------------------------------------------------------ helpers
def read_csv(path):
    """Rows as (line_number, row) with the header row first."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        data = fh.read()
    if "\r" in data and "\r\n" not in data:
        err(os.path.basename(path), 1, "bare CR line endings")
    rows = []
    reader = csv.reader(data.splitlines(keepends=True))
    line = 1
    for row in reader:
        rows.append((line, row))
        line = reader.line_num + 1
    return rows


def parse_bound(value, vtype):
    if vtype in NUMERIC_V:
        if vtype == "integer" and not re.fullmatch(r"-?\d+", value):
            raise ValueError("not an integer")
        return float(value)
    fmt = {"date_ymd": "%Y-%m-%d", "datetime_ymd": "%Y-%m-%d %H:%M",
           "datetime_seconds_ymd": "%Y-%m-%d %H:%M:%S", "time": "%H:%M"}[vtype]
    return datetime.strptime(value, fmt)


def parse_choices(raw):
    """[(code, label)] or raises ValueError."""
    out = []
    for part in raw.split("|"):
        part = part.strip()
        if "," not in part:
            raise ValueError(f"choice '{part}' is not 'code, label'")
        code, label = part.split(",", 1)
        code, label = code.strip(), label.strip()
        if not code or not label:
            raise ValueError(f"choice '{part}' has an empty code or label")
        out.append((code, label))
    return out


# ------------------------------------------------------------------ main checks
def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    DF, EF, FEF, RF = "dictionary.csv", "events.csv", "form_events.csv", "repeating.csv"
    for f in (DF, EF, FEF, RF):
        if not os.path.exists(os.path.join(d, f)):
            err(f, 0, "file missing")
    if problems:
        return finish()

    # ---- dictionary
    rows = read_csv(os.path.join(d, DF))
    line, header = rows[0]
    if header != HEADER:
        for i, (got, want) in enumerate(zip(header + [""] * 18, HEADER)):
            if got != want:
                err(DF, line, f"column {i + 1} header is '{got}', expected '{want}'")
        if len(header) != 18:
            err(DF, line, f"{len(header)} columns in the header, expected 18")
    fields = {}     # name -> dict
    order = []
    forms = []      # in order of first appearance
    closed_forms = set()
    for line, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        if len(row) != 18:
            err(DF, line, f"{len(row)} columns, expected 18")
            row = (row + [""] * 18)[:18]
        (name, form, _sec, ftype, label, choices, _note, vtype, vmin, vmax, ident, branch, req,
         align, _qn, matrix, mrank, annot) = row
        f = dict(name=name, form=form, type=ftype, choices_raw=choices, vtype=vtype, vmin=vmin,
                 vmax=vmax, branch=branch, annot=annot, line=line, codes=[])
        if not NAME_RE.match(name):
            err(DF, line, f"field name '{name}' must match [a-z][a-z0-9_]*")
        if len(name) > MAX_NAME:
            err(DF, line, f"field name '{name}' is {len(name)} characters (max {MAX_NAME})")
        if name in fields:
            err(DF, line, f"duplicate field name '{name}' (first on line {fields[name]['line']})")
            continue
        if name.endswith("_complete") and name[:-9] in forms + [form]:
            err(DF, line, f"'{name}' clashes with REDCap's implicit form status field")
        if not order and name != "record_id":
            err(DF, line, f"the first field must be record_id, not '{name}'")
        if not NAME_RE.match(form):
            err(DF, line, f"form name '{form}' must match [a-z][a-z0-9_]*")
        if form not in forms:
            if forms:
                closed_forms.add(forms[-1])
            if form in closed_forms:
                err(DF, line, f"form '{form}' is not contiguous")
            forms.append(form)
        elif form != forms[-1]:
            err(DF, line, f"form '{form}' is not contiguous")
        if ftype not in FIELD_TYPES:
            err(DF, line, f"unknown field type '{ftype}'")
        if not label.strip():
            err(DF, line, f"'{name}' has no label")
        # choices
        if ftype in CHOICE_TYPES:
            try:
                ch = parse_choices(choices)
                seen = set()
                for code, _lab in ch:
                    rx = CHECKBOX_CODE_RE if ftype == "checkbox" else CODE_RE
                    if not rx.match(code):
                        err(DF, line, f"'{name}': invalid choice code '{code}'")
                    if code in seen:
                        err(DF, line, f"'{name}': duplicate choice code '{code}'")
                    seen.add(code)
                f["codes"] = [c for c, _ in ch]
            except ValueError as ex:
                err(DF, line, f"'{name}': {ex}")
        elif ftype in ("yesno", "truefalse"):
            f["codes"] = ["1", "0"]
            if choices.strip():
                err(DF, line, f"'{name}': {ftype} fields take no choice list")
        elif ftype == "calc":
            if not choices.strip():
                err(DF, line, f"calc field '{name}' has no calculation")
        elif choices.strip():
            err(DF, line, f"'{name}': choices/calculation given for a {ftype} field")
        # validation and min/max
        if vtype:
            if ftype != "text":
                err(DF, line, f"'{name}': validation '{vtype}' on a {ftype} field")
            elif vtype not in VALIDATIONS:
                err(DF, line, f"'{name}': unknown validation type '{vtype}'")
        bounds = {}
        for which, v in (("min", vmin), ("max", vmax)):
            if v.strip():
                if vtype not in VALIDATIONS:
                    err(DF, line, f"'{name}': {which} given without a numeric/date validation")
                    continue
                try:
                    bounds[which] = parse_bound(v.strip(), vtype)
                except ValueError:
                    err(DF, line, f"'{name}': {which} '{v}' does not fit validation '{vtype}'")
        if len(bounds) == 2 and bounds["min"] > bounds["max"]:
            err(DF, line, f"'{name}': min {vmin} > max {vmax}")
        if ftype == "text" and vtype in NUMERIC_V and len(bounds) < 2:
            err(DF, line, f"numeric field '{name}' needs a plausible min and max")
        if ident not in ("", "y"):
            err(DF, line, f"'{name}': Identifier? must be 'y' or blank")
        if req not in ("", "y"):
            err(DF, line, f"'{name}': Required Field? must be 'y' or blank")
        if req == "y" and ftype in ("calc", "descriptive"):
            err(DF, line, f"'{name}': a {ftype} field cannot be required")
        if align not in ("", "RV", "RH", "LV", "LH"):
            err(DF, line, f"'{name}': bad custom alignment '{align}'")
        if matrix or mrank:
            err(DF, line, f"'{name}': matrix groups are not supported by the engine")
        # action tags
        for tag in re.findall(r"@[A-Z][A-Z-]*", annot):
            if tag not in ACTION_TAGS:
                err(DF, line, f"'{name}': unknown action tag {tag}")
        if "@FORCE-MINMAX" in annot and not bounds:
            err(DF, line, f"'{name}': @FORCE-MINMAX without min/max")
        for tag in ("@INCLUSION", "@EXCLUSION", "@ELIGIBLE"):
            if tag in annot and ftype != "calc":
                err(DF, line, f"'{name}': {tag} must be on a calc field")
        if "@DEFAULT" in annot and not re.search(r"@DEFAULT=(\"[^\"]*\"|'[^']*')", annot):
            err(DF, line, f"'{name}': @DEFAULT needs a quoted value")
        fields[name] = f
        order.append(name)
    for tag in ("@INCLUSION", "@EXCLUSION"):
        if not any(tag in fields[n]["annot"] for n in order):
            err(DF, 1, f"no field tagged {tag}")
    elig = [n for n in order if "@ELIGIBLE" in fields[n]["annot"]]
    if len(elig) != 1:
        err(DF, 1, f"expected exactly one @ELIGIBLE field, found {len(elig)}")

    # ---- events
    ev_rows = read_csv(os.path.join(d, EF))
    if ev_rows[0][1] != EVENTS_HEADER:
        err(EF, 1, f"header must be {','.join(EVENTS_HEADER)}")
    events, arms = {}, set()
    for line, row in ev_rows[1:]:
        if len(row) != 7:
            err(EF, line, f"{len(row)} columns, expected 7")
            continue
        ename, arm, off, omin, omax, uname, _lab = row
        for label, v in (("arm_num", arm), ("day_offset", off), ("offset_min", omin), ("offset_max", omax)):
            if not re.fullmatch(r"-?\d+", v):
                err(EF, line, f"{label} '{v}' is not an integer")
        if not re.fullmatch(r"[a-z][a-z0-9_]*_arm_\d+", uname):
            err(EF, line, f"unique event name '{uname}' must look like name_arm_N")
        elif not uname.endswith(f"_arm_{arm}"):
            err(EF, line, f"unique event name '{uname}' does not end with _arm_{arm}")
        if uname in events:
            err(EF, line, f"duplicate unique event name '{uname}'")
        if not ename.strip():
            err(EF, line, "empty event_name")
        events[uname] = line
        arms.add(arm)

    # ---- form_events
    fe_rows = read_csv(os.path.join(d, FEF))
    if fe_rows[0][1] != FORM_EVENTS_HEADER:
        err(FEF, 1, f"header must be {','.join(FORM_EVENTS_HEADER)}")
    form_at = {}   # form -> set(events)
    seen = set()
    for line, row in fe_rows[1:]:
        if len(row) != 3:
            err(FEF, line, f"{len(row)} columns, expected 3")
            continue
        arm, ev, fm = row
        if arm not in arms:
            err(FEF, line, f"unknown arm '{arm}'")
        if ev not in events:
            err(FEF, line, f"unknown event '{ev}'")
        if fm not in forms:
            err(FEF, line, f"unknown form '{fm}'")
        if (ev, fm) in seen:
            err(FEF, line, f"duplicate row {ev},{fm}")
        seen.add((ev, fm))
        form_at.setdefault(fm, set()).add(ev)
    for fm in forms:
        if fm not in form_at:
            err(FEF, 1, f"form '{fm}' is not collected at any event")

    # ---- repeating
    rp_rows = read_csv(os.path.join(d, RF))
    if rp_rows[0][1] != REPEATING_HEADER:
        err(RF, 1, f"header must be {','.join(REPEATING_HEADER)}")
    repeats = set()
    for line, row in rp_rows[1:]:
        if len(row) != 3:
            err(RF, line, f"{len(row)} columns, expected 3")
            continue
        ev, fm, _lab = row
        if ev not in events:
            err(RF, line, f"unknown event '{ev}'")
        if fm not in forms:
            err(RF, line, f"unknown form '{fm}'")
        elif ev in events and ev not in form_at.get(fm, set()):
            err(RF, line, f"form '{fm}' is not collected at event '{ev}'")
        if (ev, fm) in repeats:
            err(RF, line, f"duplicate row {ev},{fm}")
        repeats.add((ev, fm))

    # ---- logic
    for name in order:
        f = fields[name]
        for what, src in (("branching logic", f["branch"]),
                          ("calculation", f["choices_raw"] if f["type"] == "calc" else "")):
            if not src.strip():
                continue
            try:
                p = parse_logic(src)
            except LogicError as ex:
                err(DF, f["line"], f"'{name}' {what}, column {ex.col}: {ex.msg}")
                continue
            my_events = form_at.get(f["form"], set())
            for event, ref, code, col in p.refs:
                where = f"'{name}' {what}, column {col}"
                if event is not None and event not in events:
                    err(DF, f["line"], f"{where}: unknown event '{event}'")
                    continue
                if ref not in fields:
                    err(DF, f["line"], f"{where}: unknown field '{ref}'")
                    continue
                g = fields[ref]
                if code is not None:
                    if g["type"] != "checkbox":
                        err(DF, f["line"], f"{where}: '{ref}({code})' but '{ref}' is not a checkbox")
                    elif code not in g["codes"]:
                        err(DF, f["line"], f"{where}: '{code}' is not a code of checkbox '{ref}'")
                elif g["type"] == "checkbox":
                    err(DF, f["line"], f"{where}: checkbox '{ref}' must be referenced as [{ref}(code)]")
                if g["type"] == "descriptive":
                    err(DF, f["line"], f"{where}: '{ref}' is a descriptive field (has no value)")
                g_events = form_at.get(g["form"], set())
                if event is not None:
                    if event not in g_events:
                        err(DF, f["line"], f"{where}: '{ref}' (form {g['form']}) is not collected at '{event}'")
                    elif (event, g["form"]) in repeats:
                        err(DF, f["line"], f"{where}: '{ref}' repeats at '{event}'; a cross-event reference is ambiguous")
                else:
                    missing = sorted(my_events - g_events)
                    if missing:
                        err(DF, f["line"], f"{where}: '{ref}' (form {g['form']}) is not collected at "
                            f"{', '.join(missing)} where form {f['form']} is; use [event][{ref}]")
                    else:
                        rep_mine = {e for e in my_events if (e, f["form"]) in repeats}
                        rep_g = {e for e in my_events if (e, g["form"]) in repeats}
                        if g["form"] != f["form"] and rep_g - rep_mine:
                            err(DF, f["line"], f"{where}: '{ref}' is on repeating form {g['form']}; "
                                "the reference is ambiguous")
            for (event, ref, code, _col), op, lit, col in p.compares:
                g = fields.get(ref)
                if not g or lit == "" or code is not None:
                    continue
                if g["type"] in CHOICE_TYPES or g["type"] in ("yesno", "truefalse"):
                    if lit not in g["codes"]:
                        err(DF, f["line"], f"'{name}' {what}, column {col}: '{lit}' is not a code of '{ref}' "
                            f"({', '.join(g['codes'])})")
            if f["type"] == "calc" and what == "calculation":
                for ref in p.refs:
                    if ref[1] == name and ref[0] is None:
                        err(DF, f["line"], f"calc '{name}' refers to itself")
    # calc dependency cycles (same event)
    deps = {}
    for name in order:
        f = fields[name]
        if f["type"] == "calc" and f["choices_raw"].strip():
            try:
                deps[name] = {r[1] for r in parse_logic(f["choices_raw"]).refs if r[0] is None}
            except LogicError:
                pass
    state = {}

    def visit(n, stack):
        state[n] = 1
        for m in deps.get(n, ()):
            if m in deps:
                if state.get(m) == 1:
                    err(DF, fields[n]["line"], f"calc cycle: {' -> '.join(stack + [m])}")
                elif not state.get(m):
                    visit(m, stack + [m])
        state[n] = 2
    for n in deps:
        if not state.get(n):
            visit(n, [n])

    if not problems:
        print(f"check.py: OK — {len(order)} fields, {len(forms)} forms, {len(events)} events, "
              f"{len(seen)} form-event rows, {len(repeats)} repeating rows")
    return finish()


def finish():
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
