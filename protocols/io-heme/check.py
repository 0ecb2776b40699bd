#!/usr/bin/env python3
"""Static checker for the io-heme protocol folder (stdlib only).

Usage: python3 check.py [protocol_dir]      (default: the folder this script is in)

Checks dictionary.csv, events.csv, form_events.csv and repeating.csv against the rules of
the engine's loader (src/core/dict.h, src/core/expr.h) and REDCap's data-dictionary format,
and ioheme's own optional study.csv (target enrolment, schedule anchor) and schedule.csv (due
times in minutes after the anchor; src/core/dict_study.c).
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
STUDY_HEADER = ["key", "value"]
STUDY_KEYS = {"target_enrolment", "anchor_field", "anchor_rule", "fallback_field", "fallback_rule",
              "study_id_format", "country", "title"}
ANCHOR_RULES = {"earliest", "first_instance"}
SCHEDULE_HEADER = ["unique_event_name", "due_min", "window_before_min", "window_after_min"]

FIELD_TYPES = {"text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse", "calc",
               "descriptive"}
CHOICE_TYPES = {"dropdown", "radio", "checkbox"}
VALIDATIONS = {"integer", "number", "number_1dp", "date_ymd", "datetime_ymd",
               "datetime_seconds_ymd", "time"}
NUMERIC_V = {"integer", "number", "number_1dp"}
ACTION_TAGS = {"@FORCE-MINMAX", "@READONLY", "@HIDDEN", "@DEFAULT", "@NOW", "@TODAY",
               "@INCLUSION", "@EXCLUSION", "@ELIGIBLE", "@CONSENT"}
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


# ------------------------------------------------------------------ evaluator (expr.h semantics)
def _num(v):
    """float for a number or numeric string, else None."""
    if isinstance(v, float):
        return v
    if isinstance(v, str) and re.fullmatch(r"\s*-?(\d+(\.\d*)?|\.\d+)\s*", v):
        return float(v)
    return None


def _blank(v):
    return v is None or v == ""


def _truthy(v):
    n = _num(v)
    return n is not None and n != 0


def _parse_dt(v):
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(v, fmt)
        except (TypeError, ValueError):
            pass
    return None


class Evaluator:
    """Evaluates logic against one record: values[(event, field)] = str; calc fields are
    computed on demand (same event unless [event][field])."""

    def __init__(self, fields, values, event):
        self.fields, self.values, self.event = fields, values, event
        self.asts = {}

    def ast(self, src):
        if src not in self.asts:
            self.asts[src] = Parser(src).parse()
        return self.asts[src]

    def value(self, event, field, code=None):
        event = event or self.event
        f = self.fields[field]
        if code is not None:
            v = self.values.get((event, f"{field}({code})"))
            return "1" if v == "1" else "0"
        if f["type"] == "calc":
            saved, self.event = self.event, event
            try:
                r = self.eval(self.ast(f["choices_raw"]))
            finally:
                self.event = saved
            return None if _blank(r) else r
        v = self.values.get((event, field))
        return None if _blank(v) else v

    def calc(self, field, event=None):
        r = self.value(event, field)
        if isinstance(r, float):
            return round(r, 6)
        return r

    def eval(self, n):
        k = n[0]
        if k == "num":
            return float(n[1])
        if k == "str":
            return n[1]
        if k == "ref":
            ev, field, code, _ = n[1]
            return self.value(ev, field, code)
        if k == "not":
            return 0.0 if _truthy(self.eval(n[1])) else 1.0
        if k == "neg":
            x = _num(self.eval(n[1]))
            return None if x is None else -x
        if k == "call":
            return self.call(n[1], n[2])
        op, a, b = n[1], n[2], n[3]
        if op == "and":
            return 1.0 if _truthy(self.eval(a)) and _truthy(self.eval(b)) else 0.0
        if op == "or":
            return 1.0 if _truthy(self.eval(a)) or _truthy(self.eval(b)) else 0.0
        x, y = self.eval(a), self.eval(b)
        if op in ("=", "<>", "!="):
            if _blank(x) or _blank(y):
                eq = _blank(x) and _blank(y)
            elif _num(x) is not None and _num(y) is not None:
                eq = _num(x) == _num(y)
            else:
                eq = str(x) == str(y)
            return 1.0 if eq == (op == "=") else 0.0
        if op in ("<", "<=", ">", ">="):
            if _blank(x) or _blank(y):
                return 0.0
            nx, ny = _num(x), _num(y)
            if nx is None or ny is None:
                nx, ny = str(x), str(y)
            return 1.0 if {"<": nx < ny, "<=": nx <= ny, ">": nx > ny, ">=": nx >= ny}[op] else 0.0
        nx, ny = _num(x), _num(y)
        if nx is None or ny is None:
            return None
        if op == "+":
            return nx + ny
        if op == "-":
            return nx - ny
        if op == "*":
            return nx * ny
        if op == "/":
            return None if ny == 0 else nx / ny
        if op == "^":
            return nx ** ny
        raise AssertionError(op)

    def call(self, name, args):
        if name == "if":
            return self.eval(args[1]) if _truthy(self.eval(args[0])) else self.eval(args[2])
        vals = [self.eval(a) for a in args]
        if name in ("sum", "min", "max", "mean"):
            nums = [_num(v) for v in vals if not _blank(v) and _num(v) is not None]
            if not nums:
                return None
            return {"sum": sum(nums), "min": min(nums), "max": max(nums),
                    "mean": sum(nums) / len(nums)}[name]
        if name == "datediff":
            d1, d2 = _parse_dt(vals[0]), _parse_dt(vals[1])
            if d1 is None or d2 is None:
                return None
            secs = (d2 - d1).total_seconds()
            signed = len(vals) >= 5 and _truthy(vals[4])
            secs = secs if signed else abs(secs)
            div = {"s": 1, "m": 60, "h": 3600, "d": 86400, "M": 86400 * 30.44, "y": 86400 * 365.2425}
            return secs / div[vals[2]]
        if name == "isnumber":
            return 1.0 if _num(vals[0]) is not None else 0.0
        if name == "isblankormissingcode":
            return 1.0 if _blank(vals[0]) else 0.0
        x = _num(vals[0])
        if x is None:
            return None
        if name in ("round", "roundup", "rounddown"):
            dp = int(_num(vals[1]) or 0) if len(vals) > 1 else 0
            m = 10 ** dp
            if name == "round":
                return float(int(abs(x) * m + 0.5)) / m * (1 if x >= 0 else -1)
            import math
            return (math.ceil if name == "roundup" else math.floor)(x * m) / m
        if name == "abs":
            return abs(x)
        if name == "sqrt":
            return None if x < 0 else x ** 0.5
        raise AssertionError(name)


# ------------------------------------------------------------------ scenarios
SCR = "screening_arm_1"


def _screen(**kw):
    """A complete, eligible screening; keyword overrides (None deletes)."""
    v = {"age": "45", "heme_disease": "1", "heme_dx": "1", "qual_cat1(1)": "1",
         "qual_cat2(0)": "1", "qual_cat3(0)": "1", "qual_cat4(0)": "1", "qual_cat5(0)": "1",
         "ci_fracture": "0", "ci_prosthesis": "0", "ci_recent_io": "0", "ci_skin": "0",
         "ci_landmarks": "0", "ci_osteoporosis": "0", "ci_oi": "0", "scr_consent": "1"}
    for k, x in kw.items():
        if x is None:
            v.pop(k, None)
        else:
            v[k] = x
    return {(SCR, k): x for k, x in v.items()}


def scenarios():
    """(description, values, event, field, expected) — worked examples the calcs must reproduce."""
    S = []
    S.append(("eligible patient", _screen(), SCR, "eligible", 1))
    S.append(("age 66 -> not eligible", _screen(age="66"), SCR, "eligible", 0))
    S.append(("age 17 -> inc_age 0", _screen(age="17"), SCR, "inc_age", 0))
    S.append(("age 18 boundary", _screen(age="18"), SCR, "inc_age", 1))
    S.append(("age 65 boundary", _screen(age="65"), SCR, "inc_age", 1))
    S.append(("age missing -> unknown", _screen(age=None), SCR, "eligible", None))
    S.append(("age missing but fracture -> not eligible", _screen(age=None, ci_fracture="1"), SCR, "eligible", 0))
    S.append(("no hematologic disease", _screen(heme_disease="0"), SCR, "eligible", 0))
    none_all = _screen(**{"qual_cat1(1)": None, "qual_cat1(0)": "1"})
    S.append(("all categories 'none' -> inc_category 0", none_all, SCR, "inc_category", 0))
    S.append(("all categories 'none' -> not eligible", none_all, SCR, "eligible", 0))
    part = _screen(**{"qual_cat1(1)": None, "qual_cat2(0)": None})
    S.append(("category unanswered -> unknown", part, SCR, "inc_category", None))
    S.append(("only category 5 other life support", _screen(**{"qual_cat1(1)": None, "qual_cat1(0)": "1",
                                                                "qual_cat5(0)": None, "qual_cat5(4)": "1"}),
              SCR, "eligible", 1))
    S.append(("recent IO in same bone", _screen(ci_recent_io="1"), SCR, "exc_recent_io", 1))
    S.append(("recent IO in same bone -> not eligible", _screen(ci_recent_io="1"), SCR, "eligible", 0))
    S.append(("osteoporosis, unsafe not judged -> unknown", _screen(ci_osteoporosis="1"), SCR, "eligible", None))
    S.append(("osteoporosis judged safe -> eligible", _screen(ci_osteoporosis="1", ci_rel_unsafe="0"), SCR, "eligible", 1))
    S.append(("osteogenesis imperfecta judged unsafe", _screen(ci_oi="1", ci_rel_unsafe="1"), SCR, "eligible", 0))
    S.append(("consent refused", _screen(scr_consent="4"), SCR, "eligible", 0))
    S.append(("deferred emergency consent is eligible", _screen(scr_consent="3"), SCR, "eligible", 1))
    S.append(("consent status missing -> unknown", _screen(scr_consent=None), SCR, "eligible", None))

    B = "baseline_arm_1"
    bl = {(B, k): v for k, v in {
        "bl_plt": "40", "bl_ddimer_cat": "3", "bl_pt_prol": "4.0", "bl_fib": "0.8", "bl_anc": "0.3",
        "bl_pao2": "75", "bl_fio2": "50", "bl_resp": "3", "bl_bili": "40.0", "bl_gcs": "11",
        "bl_creat": "180", "bl_sbp": "85", "bl_dbp": "45", "bl_hr": "120", "bl_rr": "26", "bl_altered": "1",
        "bl_vaso": "1", "bl_vaso_drugs(1)": "1", "bl_ne": "0.2", "bl_vaso_drugs(6)": "1",
        "bl_vasopressin": "0.04"}.items()}
    S += [("ISTH DIC 2+3+1+1", bl, B, "dic_score", 7), ("overt DIC", bl, B, "dic_overt", 1),
          ("P/F ratio 75/0.5", bl, B, "bl_pf", 150), ("SOFA resp ventilated P/F 150", bl, B, "sofa_resp", 3),
          ("SOFA coag plt 40", bl, B, "sofa_coag", 3), ("SOFA liver bili 40", bl, B, "sofa_liver", 2),
          ("SOFA cv NE 0.2", bl, B, "sofa_cv", 4), ("SOFA cns GCS 11", bl, B, "sofa_cns", 2),
          ("SOFA renal creat 180", bl, B, "sofa_renal", 2), ("SOFA total", bl, B, "sofa_total", 16),
          ("qSOFA 3", bl, B, "bl_qsofa", 3), ("MAP (85+90)/3", bl, B, "bl_map", 58),
          ("NE-eq 0.2 + 0.04*2.5", bl, B, "bl_ne_eq", 0.3), ("subgroup ANC < 0.5", bl, B, "sg_anc_lt05", 1),
          ("subgroup plt < 20 (40)", bl, B, "sg_plt_lt20", 0)]
    bl2 = dict(bl)
    bl2[(B, "bl_uo24")] = "150"
    S.append(("SOFA renal by urine output < 200", bl2, B, "sofa_renal", 4))
    bl3 = {k: v for k, v in bl.items() if k[1] != "bl_gcs"}
    S.append(("SOFA total blank while a component is missing", bl3, B, "sofa_total", None))
    bl4 = {(B, "bl_vaso"): "0", (B, "bl_sbp"): "120", (B, "bl_dbp"): "70"}
    S += [("no vasopressors -> NE-eq 0", bl4, B, "bl_ne_eq", 0), ("SOFA cv MAP 87 no vaso", bl4, B, "sofa_cv", 0)]

    P = "io_procedure_arm_1"
    inf = {(P, "inf_volume"): "500", (P, "inf_start_dt"): "2026-03-01 10:00:00",
           (P, "inf_stop_dt"): "2026-03-01 10:10:00"}
    S.append(("flow 500 mL / 10 min", inf, P, "inf_flow", 50))
    S.append(("infusion duration", inf, P, "inf_duration_min", 10))
    S.append(("time to access 95 s", {(P, "iop_decision_dt"): "2026-03-01 10:00:00",
                                      (P, "iop_confirm_dt"): "2026-03-01 10:01:35"}, P, "iop_access_s", 95))
    R = "removal_arm_1"
    rem = {(R, "rem_insert_dt"): "2026-03-01 10:02", (R, "rem_dt"): "2026-03-02 12:32"}
    S += [("dwell 26.5 h", rem, R, "rem_dwell_h", 26.5), ("dwell > 24 h flag", rem, R, "rem_dwell_gt24", 1)]

    T0, T6, T24 = "t0_arm_1", "t6h_arm_1", "t24h_arm_1"
    hd = {(T0, "hd_status"): "1", (T0, "hd_sbp"): "80", (T0, "hd_dbp"): "45", (T0, "hd_map_inv"): "0",
          (T0, "hd_hr"): "120", (T0, "hd_lactate"): "4.0", (T0, "hd_vaso"): "1",
          (T0, "hd_vaso_drugs(1)"): "1", (T0, "hd_ne"): "0.3",
          (T6, "hd_status"): "1", (T6, "hd_map_inv"): "1", (T6, "hd_map_meas"): "70", (T6, "hd_sbp"): "110",
          (T6, "hd_dbp"): "60", (T6, "hd_hr"): "100", (T6, "hd_lactate"): "3.0", (T6, "hd_vaso"): "1",
          (T6, "hd_vaso_drugs(1)"): "1", (T6, "hd_ne"): "0.2",
          (T24, "eff_delivered"): "1", (T24, "eff_other_access"): "0"}
    S += [("T0 MAP (80+90)/3", hd, T0, "hd_map", 57), ("shock index 120/80", hd, T0, "hd_si", 1.5),
          ("6 h invasive MAP", hd, T6, "hd_map", 70), ("lactate clearance 6 h", hd, T6, "hd_lact_clear", 25),
          ("shock at T0", hd, T24, "eff_shock_t0", 1), ("no escalation", hd, T24, "eff_no_escal", 1),
          ("target met", hd, T24, "eff_target", 1), ("effective", hd, T24, "eff_grade_calc", 1)]
    hd2 = dict(hd)
    hd2.update({(T6, "hd_map_meas"): "60", (T6, "hd_lactate"): "3.8"})
    S += [("MAP 60 at 6 h, clearance 5% -> target not met", hd2, T24, "eff_target", 0),
          ("-> partially effective", hd2, T24, "eff_grade_calc", 2)]
    hd3 = dict(hd)
    hd3[(T24, "eff_delivered")] = "0"
    S.append(("not delivered -> ineffective", hd3, T24, "eff_grade_calc", 3))
    hd4 = dict(hd)
    hd4[(T24, "eff_other_access")] = "1"
    S.append(("target met but another access within 60 min -> ineffective (SAP 4.2)", hd4, T24,
              "eff_grade_calc", 3))
    hd5 = dict(hd)
    hd5[(T24, "eff_delivered")] = ""
    hd5[(T24, "eff_other_access")] = "1"
    S.append(("delivery unrecorded, another access -> ineffective", hd5, T24, "eff_grade_calc", 3))
    nos = {(T0, "hd_status"): "1", (T0, "hd_sbp"): "120", (T0, "hd_dbp"): "70", (T0, "hd_map_inv"): "0",
           (T0, "hd_vaso"): "0", (T24, "eff_delivered"): "1", (T24, "eff_other_access"): "0",
           (T24, "eff_access_dt"): "2026-03-01 10:01:00", (T24, "eff_drug_dt"): "2026-03-01 10:08:30"}
    S += [("no shock at T0", nos, T24, "eff_shock_t0", 0), ("drug 7.5 min after access", nos, T24, "eff_drug_min", 7.5),
          ("no shock, drug in time -> effective", nos, T24, "eff_grade_calc", 1)]
    return S


def run_scenarios(fields):
    bad = 0
    for desc, values, event, field, want in scenarios():
        if field not in fields:
            err("check.py", 0, f"scenario '{desc}': field '{field}' not in the dictionary")
            bad += 1
            continue
        try:
            got = Evaluator(fields, values, event).calc(field, event)
        except (KeyError, LogicError) as ex:
            err(f"dictionary.csv", fields[field]["line"], f"scenario '{desc}': {field} failed: {ex!r}")
            bad += 1
            continue
        ok = (got is None and want is None) or (
            got is not None and want is not None and _num(got) is not None and abs(_num(got) - want) < 1e-6)
        if not ok:
            err("dictionary.csv", fields[field]["line"],
                f"scenario '{desc}': {field} = {got!r}, expected {want!r}")
            bad += 1
    return len(scenarios()) - bad


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


def check_study(d, fields, events):
    """study.csv and schedule.csv, when present: the engine's rules (dict.h, dict_study.c)."""
    SF, SCF = "study.csv", "schedule.csv"
    if os.path.exists(os.path.join(d, SF)):
        rows = read_csv(os.path.join(d, SF))
        if rows[0][1] != STUDY_HEADER:
            err(SF, 1, f"header must be {','.join(STUDY_HEADER)}")
        seen = {}
        for line, row in rows[1:]:
            if len(row) != 2:
                err(SF, line, f"{len(row)} columns, expected 2")
                continue
            key, val = row
            if key not in STUDY_KEYS:
                err(SF, line, f"unknown key '{key}'")
                continue
            if key in seen:
                err(SF, line, f"key '{key}' given twice (first on line {seen[key]})")
                continue
            seen[key] = line
            if key == "target_enrolment" and not (re.fullmatch(r"\d+", val) and int(val) >= 1):
                err(SF, line, f"target_enrolment '{val}' is not a whole number of at least 1")
            elif key.endswith("_field"):
                f = fields.get(val)
                if not f:
                    err(SF, line, f"unknown field '{val}'")
                elif f["type"] != "text" or f["vtype"] not in ("datetime_ymd",
                                                                "datetime_seconds_ymd"):
                    err(SF, line, f"field '{val}' is not a datetime text field")
            elif key.endswith("_rule") and val not in ANCHOR_RULES:
                err(SF, line, f"{key} '{val}' is not one of: earliest, first_instance")
            elif key == "country" and not re.fullmatch(r"[A-Z]{3}", val):
                err(SF, line, f"country '{val}' is not an ISO 3166-1 alpha-3 code")
            elif key == "title" and not 0 < len(val.encode()) < 256:
                err(SF, line, "title: empty or longer than 255 bytes")
        for given, needs in (("anchor_rule", "anchor_field"), ("fallback_rule", "fallback_field"),
                             ("fallback_field", "anchor_field")):
            if given in seen and needs not in seen:
                err(SF, seen[given], f"{given} without {needs}")
    if os.path.exists(os.path.join(d, SCF)):
        rows = read_csv(os.path.join(d, SCF))
        if rows[0][1] != SCHEDULE_HEADER:
            err(SCF, 1, f"header must be {','.join(SCHEDULE_HEADER)}")
        seen = {}
        for line, row in rows[1:]:
            if len(row) != 4:
                err(SCF, line, f"{len(row)} columns, expected 4")
                continue
            ev = row[0]
            if ev not in events:
                err(SCF, line, f"unknown event '{ev}'")
            elif ev in seen:
                err(SCF, line, f"event '{ev}' scheduled twice (first on line {seen[ev]})")
            seen.setdefault(ev, line)
            for name, v in zip(SCHEDULE_HEADER[1:], row[1:]):
                if not re.fullmatch(r"-?\d+" if name == "due_min" else r"\d+", v):
                    err(SCF, line, f"{name} '{v}' is not a whole number of minutes"
                        + ("" if name == "due_min" else ", 0 or more"))


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
    crit = [n for n in order if re.search(r"@(INCLUSION|EXCLUSION|ELIGIBLE)\b", fields[n]["annot"])]
    crit_forms = {fields[n]["form"] for n in crit}
    if len(crit_forms) > 1:
        err(DF, fields[crit[0]]["line"], f"eligibility fields are spread over forms {sorted(crit_forms)}; "
            "they must all be on the screening form")
    # the README traces every form and every eligibility criterion
    readme = os.path.join(d, "README.md")
    if os.path.exists(readme):
        text = open(readme, encoding="utf-8").read()
        for n in crit + [n for n in forms]:
            if f"`{n}`" not in text:
                err("README.md", 1, f"'{n}' is not mentioned (as `{n}`)")
    else:
        err("README.md", 0, "file missing")

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

    # ---- study.csv, schedule.csv (ioheme's own, optional)
    check_study(d, fields, events)

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

    nscen = run_scenarios(fields) if not problems else 0
    if not problems:
        print(f"check.py: OK — {nscen} worked examples reproduced; {len(order)} fields, {len(forms)} forms, {len(events)} events, "
              f"{len(seen)} form-event rows, {len(repeats)} repeating rows")
    return finish()


def finish():
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
