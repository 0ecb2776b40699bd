/* The protocol loader: a good protocol folder read into fields, forms, events and the
 * form-event matrix; and one folder per kind of mistake, each error asserted as the exact
 * "file:line:column: message" a coordinator will read. Fixtures: tests/fixtures/dict/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dict.h"
#include "core/validate.h"
#include "redcap_header.h"

static const char *fixture(const char *name)
{
    static char path[1024];
    const char *root = getenv("IOHEME_FIXTURES");
    snprintf(path, sizeof path, "%s/dict/%s", root ? root : "tests/fixtures", name);
    return path;
}

static void test_good_protocol_loads(void **state)
{
    (void)state;
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load(fixture("good"), &d, &e), 0);
    assert_int_equal(d.nfields, 25);
    assert_int_equal(d.nforms, 3);
    assert_int_equal(d.nevents, 3);
    assert_string_equal(d.fields[0].name, "record_id");

    assert_string_equal(d.forms[0].name, "screening");
    assert_int_equal(d.forms[0].first_field, 0);
    assert_int_equal(d.forms[0].nfields, 13);
    assert_string_equal(d.forms[1].name, "baseline");
    assert_int_equal(d.forms[1].first_field, 13);
    assert_int_equal(d.forms[1].nfields, 10);
    assert_string_equal(d.forms[2].label, "Follow up");
    assert_int_equal(dict_form_index(&d, "follow_up"), 2);
    assert_null(dict_form(&d, "nope"));

    assert_string_equal(d.events[0].name, "screening_arm_1");
    assert_string_equal(d.events[1].label, "Day 0"); /* event_name when no label */
    assert_string_equal(d.events[2].label, "Day 28 follow-up");
    /* the short name for narrow places (the subject page's grid head) is event_name */
    assert_string_equal(d.events[1].short_label, "Day 0");
    assert_string_equal(d.events[2].short_label, "Day 28");
    assert_int_equal(d.events[2].day_offset, 28);
    assert_int_equal(d.events[2].offset_min, 2);
    assert_int_equal(dict_event_index(&d, "day28_arm_1"), 2);
    assert_int_equal(dict_event_index(&d, "day7_arm_1"), -1);
    /* matrix: screening@screening, baseline@day0 (repeating), follow_up@day28 */
    assert_true(d.form_at_event[0 * 3 + 0]);
    assert_false(d.form_at_event[0 * 3 + 1]);
    assert_true(d.form_at_event[1 * 3 + 1]);
    assert_true(d.form_repeats[1 * 3 + 1]);
    assert_false(d.form_repeats[0 * 3 + 0]);
    assert_true(d.form_at_event[2 * 3 + 2]);

    const struct dict_field *f = dict_field(&d, "scr_date");
    assert_non_null(f);
    assert_int_equal(f->type, FT_TEXT);
    assert_int_equal(f->vtype, VT_DATE_YMD);
    assert_true(f->has_min && f->has_max && f->is_required);
    /* 2024-01-01 is 19723 days after 1970-01-01 (54*365 + 13 leap days); 2030-12-31 is
     * 61*365 + 15 - 1 = 22279 */
    assert_true(f->min_num == 19723.0);
    assert_true(f->max_num == 22279.0);
    assert_string_equal(f->default_value, "today");
    assert_string_equal(f->section_header, "Screening");
    assert_int_equal(f->line, 3);
    assert_int_equal(f->form_index, 0);

    f = dict_field(&d, "sex");
    assert_int_equal(f->type, FT_RADIO);
    assert_int_equal(f->nchoices, 2);
    assert_string_equal(f->choices[1].code, "2");
    assert_string_equal(f->choices[1].label, "Female");
    assert_string_equal(dict_choice_label(f, "1"), "Male");
    assert_null(dict_choice_label(f, "3"));

    f = dict_field(&d, "icu");
    assert_int_equal(f->type, FT_YESNO);
    assert_int_equal(f->nchoices, 2);
    assert_string_equal(f->choices[0].code, "1");
    assert_string_equal(f->choices[1].code, "0");
    f = dict_field(&d, "alive");
    assert_int_equal(f->type, FT_TRUEFALSE);
    assert_string_equal(dict_choice_label(f, "0"), "False");
    assert_non_null(f->branching);

    f = dict_field(&d, "hem_dx");
    assert_int_equal(f->type, FT_CHECKBOX);
    assert_int_equal(f->nchoices, 4);
    assert_string_equal(dict_choice_label(f, "99"), "Other");
    assert_non_null(dict_field(&d, "hem_dx_other")->branching);

    f = dict_field(&d, "age");
    assert_int_equal(f->type, FT_CALC);
    assert_non_null(f->calc);
    assert_string_equal(f->note, "years");
    assert_true(dict_field(&d, "inc_age")->is_inclusion);
    assert_true(dict_field(&d, "inc_age")->is_hidden);
    assert_true(dict_field(&d, "exc_preg")->is_exclusion);
    assert_true(dict_field(&d, "eligible")->is_eligible);
    assert_true(dict_field(&d, "eligible")->is_readonly);

    f = dict_field(&d, "weight_kg");
    assert_int_equal(f->vtype, VT_NUMBER_1DP);
    assert_true(f->min_num == 30 && f->max_num == 250);
    assert_false(f->force_minmax);
    assert_true(dict_field(&d, "sbp")->force_minmax);
    assert_string_equal(dict_field(&d, "contact")->default_value, "none@example.org");
    assert_true(dict_field(&d, "dob")->is_identifier);
    assert_int_equal(dict_field(&d, "site")->nchoices, 3);
    assert_string_equal(dict_field(&d, "site")->choices[0].code, "prox_tibia");
    assert_int_equal(dict_field(&d, "pain")->type, FT_SLIDER);
    assert_int_equal(dict_field(&d, "proc_time")->vtype, VT_TIME);
    assert_int_equal(dict_field(&d, "io_end")->vtype, VT_DATETIME_SECONDS_YMD);
    assert_null(dict_field(&d, "baseline_complete")); /* implicit, not a dictionary field */

    char buf[64];
    assert_string_equal(dict_complete_field(&d.forms[1], buf, sizeof buf), "baseline_complete");
    assert_null(dict_complete_field(&d.forms[1], buf, 8));
    assert_string_equal(dict_field_type_name(FT_CHECKBOX), "checkbox");
    assert_string_equal(dict_val_type_name(VT_DATETIME_SECONDS_YMD), "datetime_seconds_ymd");
    dict_free(&d);
    assert_int_equal(d.nfields, 0);
}

static void test_in_memory_without_events_has_one_implicit_event(void **state)
{
    (void)state;
    char csv[2048];
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,io_procedure,,text,ID,,,,,,,,,,,,,\n"
             "ae_term,ae,,text,Term,,,,,,,[io_procedure_complete] = '2',,,,,,\n");
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load_mem(csv, NULL, NULL, NULL, &d, &e), 0);
    assert_int_equal(d.nevents, 1);
    assert_string_equal(d.events[0].name, "event_1");
    assert_true(d.form_at_event[0] && d.form_at_event[1]); /* every form at the event */
    assert_false(d.form_repeats[0]);
    assert_string_equal(d.forms[0].label, "IO procedure"); /* short first word: upper case */
    assert_string_equal(d.forms[1].label, "AE");
    dict_free(&d);
}

/* What REDCap itself writes and accepts: the API's header, the 17 columns of dictionaries
 * older than Field Annotation, blank rows, a signature pad on a file field, an autocomplete
 * dropdown, a slider with its own ends, and an events export without day offsets. */
static void test_redcap_variants_load(void **state)
{
    (void)state;
    static const char api[] =
        "field_name,form_name,section_header,field_type,field_label,"
        "select_choices_or_calculations,field_note,text_validation_type_or_show_slider_number,"
        "text_validation_min,text_validation_max,identifier,branching_logic,required_field,"
        "custom_alignment,question_number,matrix_group_name,matrix_ranking,field_annotation\n"
        "record_id,visit,,text,ID,,,,,,,,,,,,,\n"
        ",,,,,,,,,,,,,,,,,\n"
        "sig,visit,,file,Signature,,,signature,,,,,,,,,,\n"
        "country,visit,,dropdown,Country,\"AFG, Afghanistan | ALB, "
        "Albania\",,autocomplete,,,,,,,,,,\n"
        "pain,visit,,slider,Pain,\"none | | worst\",,,-1,101,,,,,,,,\n"
        "often,visit,,radio,Often,\"1, | 2, Often\",,,,,,,,,,,,\"@DEFAULT = '2'\"\n"
        "dob,visit,,text,Birth,,,date_dmy,1900-01-01,2050-01-01,,,,,,,,\n";
    static const char events[] = "event_name,arm_num,unique_event_name,custom_event_label\n"
                                 "\"Event 1\",1,event_1_arm_1,\n"
                                 "\"Event 2\",2,event_2_arm_2,Second\n";
    struct dict d;
    struct err e;
    err_clear(&e);
    if (dict_load_mem(api, events, NULL, NULL, &d, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(d.nfields, 6); /* the blank row is skipped */
    const struct dict_field *often = dict_field(&d, "often");
    assert_int_equal(often->nchoices, 2);
    assert_string_equal(often->choices[0].label, ""); /* an empty label, as REDCap allows */
    assert_string_equal(often->default_value, "2");   /* spaces around '=' */
    assert_int_equal(dict_field(&d, "sig")->vtype, VT_SIGNATURE);
    assert_int_equal(dict_field(&d, "country")->vtype, VT_AUTOCOMPLETE);
    assert_int_equal(dict_field(&d, "country")->nchoices, 2);
    const struct dict_field *pain = dict_field(&d, "pain");
    assert_true(pain->has_min && pain->min_num == -1 && pain->has_max && pain->max_num == 101);
    assert_int_equal(dict_field(&d, "dob")->vtype, VT_DATE_DMY);
    assert_int_equal(d.nevents, 2);
    assert_string_equal(d.events[0].label, "Event 1");
    assert_string_equal(d.events[1].label, "Second");
    assert_int_equal(d.events[1].day_offset, 0);
    dict_free(&d);

    char csv[4096];
    snprintf(csv, sizeof csv, "%.*s\n%s", (int)(strlen(REDCAP_HEADER) - 20), REDCAP_HEADER,
             "record_id,visit,,text,ID,,,,,,,,,,,,\n");
    assert_non_null(strstr(csv, "\"Matrix Ranking?\"\n")); /* 17 columns */
    if (dict_load_mem(csv, NULL, NULL, NULL, &d, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(d.nfields, 1);
    assert_string_equal(d.fields[0].annotation, "");
    dict_free(&d);

    /* a classic project's repeating instruments, as REDCap exports them: no event column */
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,visit,,text,ID,,,,,,,,,,,,,\n"
             "ae_term,ae,,text,Term,,,,,,,,,,,,,\n");
    if (dict_load_mem(csv, NULL, NULL, "form_name,custom_form_label\nae,[ae_term]\n", &d, &e) != 0)
        fail_msg("%s", e.msg);
    assert_false(d.form_repeats[0]);
    assert_true(d.form_repeats[1]);
    assert_int_equal(dict_instance_max(&d, 0, 1), DICT_INSTANCE_MAX_DEFAULT);
    dict_free(&d);

    /* an sql field loads, takes free text, and says why in a warning */
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,visit,,text,ID,,,,,,,,,,,,,\n"
             "f_sql,visit,,sql,Dynamic,\"SELECT 1 as one;\",,,,,,,,RH,,,,\n");
    if (dict_load_mem(csv, NULL, NULL, NULL, &d, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(dict_field(&d, "f_sql")->type, FT_SQL);
    assert_int_equal(d.nwarnings, 1);
    assert_string_equal(d.warnings[0],
                        "dictionary.csv:3:4: warning: field 'f_sql': sql field: its choices come "
                        "from a query on REDCap's own database, which ioheme cannot run; it takes "
                        "free text");
    dict_free(&d);

    /* what loads but cannot behave as in REDCap, one warning each: a BioPortal lookup (free
     * text), a JavaScript calc (blank), a bound read from another field (not checked); "today"
     * and "now" as bounds are the site's clock, checked when the value is entered */
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,visit,,text,ID,,,,,,,,,,,,,\n"
             "dx,visit,,text,Diagnosis,BIOPORTAL:ICD10,,,,,,,,,,,,\n"
             "js,visit,,calc,JS,\"$('#dx-tr select').prop('selected',true)\",,,,,,,,,,,,\n"
             "lmp,visit,,text,LMP,,,date_mdy,,today,,,,,,,,\n"
             "onset,visit,,text,Onset,,,date_mdy,[lmp],today,,,,,,,,\n"
             "n,visit,,text,N,,,integer,0,[visit][lmp],,,,,,,,\n"
             "appt,visit,,text,Appt,,,datetime_ymd,now,,,,,,,,,\n"
             "dose,visit,,text,Dose,,,time,,now,,,,,,,,@FORCE-MINMAX\n"
             "m,visit,,text,M,,,integer,[record-name],[nosuch],,,,,,,,\n"
             "hf,visit,,text,HF,,,,,,,,,,,,,@HIDDEN-FORM\n"
             "hs,visit,,text,HS,,,,,,,,,,,,,@HIDDEN-SURVEY @HIDDEN-APP @HIDDEN-PDF\n"
             "hb,visit,,text,HB,,,date_ymd,,,,,,,,,,@HIDEBUTTON\n");
    if (dict_load_mem(csv, NULL, NULL, NULL, &d, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(d.nwarnings, 5);
    assert_string_equal(d.warnings[0], "dictionary.csv:3:6: warning: field 'dx': 'BIOPORTAL:ICD10' "
                                       "looks its values up in BioPortal's ontology, which "
                                       "ioheme cannot reach; it takes free text");
    assert_string_equal(d.warnings[1], "dictionary.csv:4:6: warning: field 'js': its calculation "
                                       "is JavaScript, which REDCap runs in the browser; ioheme "
                                       "runs none: the field stays blank");
    /* a bound piped from a field is checked ([lmp]: no warning); one that names no value (an
     * event this classic project has not, a field it has not) or a smart variable is kept and
     * not checked */
    assert_string_equal(d.warnings[2], "dictionary.csv:7:10: warning: field 'n': max "
                                       "'[visit][lmp]' names no value this protocol holds (an "
                                       "unknown field or event, a checkbox, a form status); "
                                       "ioheme keeps it but does not check it");
    assert_string_equal(d.warnings[3], "dictionary.csv:10:9: warning: field 'm': min "
                                       "'[record-name]' is a smart variable, not a value of the "
                                       "field's type; ioheme keeps it but does not check it");
    assert_non_null(strstr(d.warnings[4], "dictionary.csv:10:10: warning: field 'm': max "
                                          "'[nosuch]' names no value"));
    assert_non_null(dict_field(&d, "onset")->min_ref);
    assert_null(dict_field(&d, "n")->max_ref);
    assert_null(dict_field(&d, "m")->min_ref);
    assert_null(dict_field(&d, "m")->max_ref);
    /* @HIDDEN-FORM hides on the data-entry form, as @HIDDEN does; REDCap's survey, app and PDF
     * variants hide elsewhere only, and ioheme has no surveys, app or PDF form */
    assert_true(dict_field(&d, "hf")->is_hidden);
    assert_false(dict_field(&d, "hs")->is_hidden);
    assert_true(dict_field(&d, "hb")->hide_button);
    assert_false(dict_field(&d, "hf")->hide_button);
    assert_non_null(dict_field(&d, "js")->calc);
    assert_string_equal(dict_field(&d, "js")->choices_raw,
                        "$('#dx-tr select').prop('selected',true)");
    const struct dict_field *lmp = dict_field(&d, "lmp");
    assert_false(lmp->has_max);
    assert_int_equal(lmp->max_clock, DICT_BOUND_TODAY);
    assert_string_equal(lmp->vmax, "today");
    struct validate_result vr;
    const char *wall = "2026-12-06 10:00:00"; /* the site's clock in these checks */
    /* stored ISO, entered MM-DD-YYYY: tomorrow is after today, flagged; today is fine */
    assert_int_equal(validate_clock_bounds(lmp, "2026-12-07", wall, &vr), VALID_SOFT);
    assert_string_equal(vr.rule, "max");
    assert_string_equal(vr.msg, "field 'lmp': 2026-12-07 is above the maximum today (2026-12-06) "
                                "(flagged for review)");
    assert_int_equal(validate_clock_bounds(lmp, "2026-12-06", wall, &vr), VALID_OK);
    assert_int_equal(validate_clock_bounds(lmp, "", wall, &vr), VALID_OK);
    const struct dict_field *appt = dict_field(&d, "appt");
    assert_int_equal(validate_clock_bounds(appt, "2026-12-06 09:59", wall, &vr), VALID_SOFT);
    assert_non_null(strstr(vr.msg, "is below the minimum now (2026-12-06 10:00)"));
    assert_int_equal(validate_clock_bounds(appt, "2026-12-06 10:00", wall, &vr), VALID_OK);
    const struct dict_field *dose = dict_field(&d, "dose"); /* @FORCE-MINMAX: refused */
    assert_int_equal(validate_clock_bounds(dose, "10:01", wall, &vr), VALID_HARD);
    assert_string_equal(vr.msg, "field 'dose': 10:01 is above the maximum now (10:00)");
    assert_int_equal(validate_clock_bounds(dict_field(&d, "onset"), "2999-01-01", wall, &vr),
                     VALID_SOFT); /* its max is today; its min, a field, is the store's */
    const struct dict_field *nf = dict_field(&d, "n");
    assert_true(nf->has_min && !nf->has_max); /* the fixed bound is checked as always */
    assert_int_equal(validate_value(nf, NULL, "-1", &vr), VALID_SOFT);
    assert_int_equal(validate_clock_bounds(nf, "5", wall, &vr), VALID_OK);
    /* the bounds a value is checked against, as the form and the API show them */
    assert_string_equal(dict_field_bound(lmp, true), "today");
    assert_null(dict_field_bound(lmp, false));
    assert_string_equal(dict_field_bound(dict_field(&d, "onset"), false), "[lmp]"); /* piped */
    assert_null(dict_field_bound(dict_field(&d, "m"), false)); /* kept, not checked */
    assert_string_equal(dict_field_bound(dict_field(&d, "onset"), true), "today");
    assert_string_equal(dict_field_bound(nf, false), "0");
    assert_null(dict_field_bound(nf, true));
    assert_string_equal(dict_field_bound(appt, false), "now");
    dict_free(&d);
    /* what is not such a bound is an error: a broken reference, "today" on a text field, on an
     * integer, on a time field (a time has no date: only "now") */
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,visit,,text,ID,,,,,,,,,,,,,\n"
             "a,visit,,text,A,,,date_ymd,[lmp,,,,,,,,,\n"
             "b,visit,,text,B,,,,today,,,,,,,,,\n"
             "c,visit,,text,C,,,integer,today,,,,,,,,,\n"
             "t,visit,,text,T,,,time,,today,,,,,,,,\n");
    assert_int_equal(dict_load_mem(csv, NULL, NULL, NULL, &d, &e), ERR_INVALID);
    assert_string_equal(e.msg, "dictionary.csv:3:9: field 'a': min '[lmp' is not a valid date_ymd\n"
                               "dictionary.csv:4:9: field 'b': min 'today' needs a date, datetime "
                               "or time validation, not '(none)'\n"
                               "dictionary.csv:5:9: field 'c': min 'today' needs a date, datetime "
                               "or time validation, not 'integer'\n"
                               "dictionary.csv:6:10: field 't': max 'today' needs a date, datetime "
                               "or time validation, not 'time'");

    /* the validation types that belong on other field types are refused on text */
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,visit,,text,ID,,,,,,,,,,,,,\n"
             "sig,visit,,text,Signature,,,signature,,,,,,,,,,\n");
    assert_int_equal(dict_load_mem(csv, NULL, NULL, NULL, &d, &e), ERR_INVALID);
    assert_string_equal(e.msg, "dictionary.csv:3:8: field 'sig': validation 'signature' on a "
                               "text field (it belongs on file fields)");
}

/* Loads a bad fixture and checks the full error list, line by line. */
static void expect_errors(const char *name, const char *want)
{
    struct dict d;
    struct err e;
    struct strbuf all = STRBUF_INIT;
    size_t n = 0, want_n = 0;
    err_clear(&e);
    assert_int_equal(dict_load_full(fixture(name), &d, &all, &n, &e), ERR_INVALID);
    for (const char *p = want; *p; p++)
        want_n += *p == '\n';
    if (strcmp(strbuf_str(&all), want) != 0)
        fail_msg("%s: got\n%s\nwant\n%s", name, strbuf_str(&all), want);
    assert_int_equal(n, want_n);
    assert_int_equal(d.nfields, 0); /* left empty */
    /* e->msg starts with the same first error */
    size_t first = strcspn(want, "\n");
    assert_memory_equal(e.msg, want, first);
    strbuf_release(&all);
}

static void test_bad_header(void **state)
{
    (void)state;
    expect_errors("bad_header", "dictionary.csv:1:4: header 'Type' should be 'Field Type'\n");
}

static void test_bad_names(void **state)
{
    (void)state;
    expect_errors("bad_names",
                  "dictionary.csv:3:1: field name 'Age' must start with a lowercase letter and "
                  "hold only a-z, 0-9 and _\n"
                  "dictionary.csv:5:1: duplicate field name 'sex' (first defined at line 4)\n"
                  "dictionary.csv:6:2: form name 'Screening Form' must start with a lowercase "
                  "letter and hold only a-z, 0-9 and _\n"
                  "dictionary.csv:7:1: field name 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is longer than 100 "
                  "characters\n");
}

static void test_bad_types(void **state)
{
    (void)state;
    expect_errors("bad_types",
                  "dictionary.csv:3:4: field 'a1': unknown field type 'textbox'\n"
                  "dictionary.csv:4:8: field 'a2': unknown or unsupported validation type "
                  "'date_ydm'\n"
                  "dictionary.csv:5:8: field 'a3': validation 'integer' on a notes field (it "
                  "belongs on text fields)\n"
                  "dictionary.csv:6:11: field 'a4': Identifier? must be 'y' or empty, not 'yes'\n"
                  "dictionary.csv:7:14: field 'a5': Custom Alignment must be RV, RH, LV or LH, "
                  "not 'XX'\n");
}

static void test_bad_choices(void **state)
{
    (void)state;
    expect_errors("bad_choices",
                  "dictionary.csv:3:6: choice 2 '2 No' of field 'c1' has no comma: write "
                  "'code, label'\n"
                  "dictionary.csv:4:6: field 'c2': duplicate choice code '1'\n"
                  "dictionary.csv:5:6: checkbox field 'c3' has no choices\n"
                  "dictionary.csv:7:6: choice 1 of field 'c5': code '1 a' must be letters, "
                  "digits, _, ., -\n");
}

static void test_bad_minmax(void **state)
{
    (void)state;
    expect_errors("bad_minmax",
                  "dictionary.csv:3:9: field 'm1': min '1.5' is not a valid integer\n"
                  "dictionary.csv:4:10: field 'm2': min '10' is greater than max '2'\n"
                  "dictionary.csv:5:9: field 'm3': a min needs a number, date or time "
                  "validation type, not '(none)'\n"
                  "dictionary.csv:6:10: field 'm4': max '2024-02-30' is not a valid date_ymd\n"
                  "dictionary.csv:7:10: field 'm5': min '2024-02-01' is greater than max "
                  "'2024-01-31'\n");
}

static void test_bad_logic(void **state)
{
    (void)state;
    /* column 12 is Branching Logic; "char N" counts within the cell */
    expect_errors("bad_logic",
                  "dictionary.csv:5:12: (Branching Logic, char 8): unexpected end of "
                  "expression\n"
                  "dictionary.csv:6:12: (Branching Logic, char 15): unknown field [agee]\n"
                  "dictionary.csv:7:12: (Branching Logic, char 1): [age(1)]: 'age' is a text "
                  "field, not a checkbox\n"
                  "dictionary.csv:8:12: (Branching Logic, char 1): [dx(3)]: checkbox 'dx' has "
                  "no option '3'\n"
                  "dictionary.csv:9:12: (Branching Logic, char 1): [dx]: a checkbox is "
                  "referenced by option, e.g. [dx(1)]\n"
                  "dictionary.csv:10:12: (Branching Logic, char 1): unknown event "
                  "[baseline_arm_1] in [baseline_arm_1][age]\n"
                  "dictionary.csv:12:12: (Branching Logic, char 1): unknown function 'foo'\n");
}

static void test_bad_calc(void **state)
{
    (void)state;
    expect_errors("bad_calc",
                  "dictionary.csv:3:6: calc field 'k1' has no calculation\n"
                  "dictionary.csv:4:18: field 'k2': @INCLUSION, @EXCLUSION and @ELIGIBLE belong "
                  "on calc fields, not text\n"
                  "dictionary.csv:5:6: (Calculation, char 14): expected ',' or ')' in the "
                  "arguments of round\n"
                  "dictionary.csv:6:6: field 'k4': choices or a calculation on a text field "
                  "(only dropdown, radio, checkbox, calc and slider have them)\n"
                  "dictionary.csv:7:6: (Calculation, char 25): datediff unit 'w' is not one of "
                  "y, M, d, h, m, s\n"
                  "dictionary.csv:9:18: a second @ELIGIBLE field ('k7'); the verdict is one "
                  "field\n");
}

static void test_bad_events(void **state)
{
    (void)state;
    expect_errors("bad_events",
                  "events.csv:4:3: day_offset 'ninety' is not an integer\n"
                  "events.csv:5:6: duplicate event 'day28_arm_1'\n"
                  "form_events.csv:4:2: unknown event 'day7_arm_1'\n"
                  "form_events.csv:5:3: unknown form 'adverse_events'\n"
                  "repeating.csv:2:2: unknown form 'adverse_events'\n"
                  "repeating.csv:3:2: form 'follow_up' repeats at event 'screening_arm_1' but "
                  "is not collected there (form_events.csv)\n");
}

/* repeating.csv's optional max_instances column bounds each repeating form; blank is the
 * default 999, a value outside 1..9999 is an error at its cell. */
/* A dictionary of three one-field forms: f (the record ID), g and h. */
static void forms_f_g_h(struct strbuf *csv)
{
    strbuf_adds(csv, REDCAP_HEADER);
    strbuf_adds(csv, "record_id,f,,text,ID,,,,,,,,,,,,,\n"
                     "a,g,,text,A,,,,,,,,,,,,,\n"
                     "b,h,,text,B,,,,,,,,,,,,,\n");
}

/* REDCap's repeating event: a repeating.csv row with form_name blank (as its
 * repeatingFormsEvents export and its project XML's RepeatingEvent give it) makes every form
 * collected at the event repeat there; an event that collects no form is an error. Before, the
 * row was refused ("unknown form ''"), so `protocol from-redcap` wrote folders that did not
 * load (found by fuzz_redcap_xml). */
static void test_repeating_event_repeats_its_forms(void **state)
{
    (void)state;
    struct strbuf csv = STRBUF_INIT;
    forms_f_g_h(&csv);
    static const char events[] = "event_name,arm_num,unique_event_name\n"
                                 "Enrolment,1,enrol_arm_1\nVisit,1,visit_arm_1\n"
                                 "Empty,1,empty_arm_1\n";
    static const char map[] = "arm_num,unique_event_name,form\n1,enrol_arm_1,f\n"
                              "1,visit_arm_1,g\n1,visit_arm_1,h\n";
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load_mem(strbuf_str(&csv), events, map,
                                   "event_name,form_name,custom_form_label,max_instances\n"
                                   "visit_arm_1,,,12\n",
                                   &d, &e),
                     0);
    assert_int_equal(dict_instance_max(&d, 0, 0), 0);  /* f at enrolment does not repeat */
    assert_int_equal(dict_instance_max(&d, 1, 1), 12); /* g and h at the visit do */
    assert_int_equal(dict_instance_max(&d, 1, 2), 12);
    assert_int_equal(dict_instance_max(&d, 1, 0), 0); /* f is not collected there */
    dict_free(&d);
    assert_int_equal(dict_load_mem(strbuf_str(&csv), events, map,
                                   "event_name,form_name,custom_form_label\nempty_arm_1,,\n", &d,
                                   &e),
                     ERR_INVALID);
    assert_non_null(
        strstr(e.msg, "repeating.csv:2:1: event 'empty_arm_1' repeats but collects no form"));
    strbuf_release(&csv);
}

static void test_repeating_forms_have_a_maximum_instance(void **state)
{
    (void)state;
    struct strbuf csv = STRBUF_INIT;
    forms_f_g_h(&csv);
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load_mem(strbuf_str(&csv), NULL, NULL,
                                   "event_name,form_name,custom_form_label,max_instances\n"
                                   ",g,,\n,h,,5\n",
                                   &d, &e),
                     0);
    assert_int_equal(dict_instance_max(&d, 0, 0), 0); /* f does not repeat */
    assert_int_equal(dict_instance_max(&d, 0, 1), DICT_INSTANCE_MAX_DEFAULT);
    assert_int_equal(DICT_INSTANCE_MAX_DEFAULT, 999);
    assert_int_equal(dict_instance_max(&d, 0, 2), 5);
    dict_free(&d);
    /* REDCap's own three-column export: the default */
    assert_int_equal(dict_load_mem(strbuf_str(&csv), NULL, NULL,
                                   "event_name,form_name,custom_form_label\n,h,\n", &d, &e),
                     0);
    assert_int_equal(dict_instance_max(&d, 0, 2), 999);
    dict_free(&d);
    assert_int_equal(dict_load_mem(strbuf_str(&csv), NULL, NULL,
                                   "event_name,form_name,custom_form_label,max_instances\n"
                                   ",g,,0\n,h,,10000\n",
                                   &d, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "repeating.csv:2:4: max_instances '0' is not a whole number "
                                  "from 1 to 9999"));
    assert_non_null(strstr(e.msg, "repeating.csv:3:4: max_instances '10000'"));
    strbuf_release(&csv);
}

/* Every instance number from outside is range-checked as text or as a 64-bit integer before it
 * becomes an int: 4294967297 once wrote instance 1. */
static void test_instance_numbers_are_checked_before_narrowing(void **state)
{
    (void)state;
    int v = -1;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_instance_parse("0", "instance", &v, &e), 0);
    assert_int_equal(v, 0);
    assert_int_equal(dict_instance_parse("9999", "instance", &v, &e), 0);
    assert_int_equal(v, 9999);
    const char *bad[] = {"",     "10000", "2147483647", "4294967297", "99999999999999999999999",
                         "-1",   "+1",    " 1",         "1 ",         "2b",
                         "0x10", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = -1;
        err_clear(&e);
        assert_int_equal(dict_instance_parse(bad[i], "redcap_repeat_instance", &v, &e),
                         ERR_INVALID);
        assert_int_equal(v, -1);
        assert_string_equal(e.field, "redcap_repeat_instance");
    }
    assert_int_equal(dict_instance_check(4294967297LL, "instance", &v, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "4294967297 is out of range"));
    assert_int_equal(dict_instance_check(-1, "instance", &v, &e), ERR_INVALID);
    assert_int_equal(dict_instance_check(7, "instance", &v, &e), 0);
    assert_int_equal(v, 7);
}

/* The one reader of REDCap column names: fields, checkbox options, form statuses. */
static void test_keys_are_fields_options_or_statuses(void **state)
{
    (void)state;
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load(fixture("good"), &d, &e), 0);
    struct dict_key k;
    assert_int_equal(dict_key_parse(&d, "sex", &k), DICT_KEY_FIELD);
    assert_string_equal(k.field->name, "sex");
    assert_string_equal(k.form->name, "screening");
    assert_null(k.code);
    assert_int_equal(dict_key_parse(&d, "hem_dx___2", &k), DICT_KEY_OPTION);
    assert_string_equal(k.field->name, "hem_dx");
    assert_string_equal(k.name, "hem_dx");
    assert_string_equal(k.code, "2");
    /* the code is not checked here: the write path names a wrong one */
    assert_int_equal(dict_key_parse(&d, "hem_dx___99", &k), DICT_KEY_OPTION);
    assert_string_equal(k.code, "99");
    assert_int_equal(dict_key_parse(&d, "follow_up_complete", &k), DICT_KEY_STATUS);
    assert_string_equal(k.form->name, "follow_up");
    assert_string_equal(k.name, "follow_up");
    assert_null(k.field);
    /* a "_complete" that names no form, a "___" on an unknown field, the magic 9 characters */
    assert_int_equal(dict_key_parse(&d, "nothing_complete", &k), DICT_KEY_UNKNOWN);
    assert_string_equal(k.name, "nothing_complete");
    assert_int_equal(dict_key_parse(&d, "_complete", &k), DICT_KEY_UNKNOWN);
    assert_int_equal(dict_key_parse(&d, "nope___1", &k), DICT_KEY_UNKNOWN);
    assert_string_equal(k.name, "nope");
    assert_string_equal(k.code, "1");
    assert_int_equal(dict_key_parse(&d, "screening_completed", &k), DICT_KEY_UNKNOWN);
    char buf[16];
    assert_string_equal(dict_key_format("hem_dx", "2", buf, sizeof buf), "hem_dx___2");
    assert_string_equal(dict_key_format("sex", NULL, buf, sizeof buf), "sex");
    assert_null(dict_key_format("a_very_long_field", "1", buf, sizeof buf));
    dict_free(&d);
}

static void test_form_fields_must_be_together(void **state)
{
    (void)state;
    expect_errors("bad_order", "dictionary.csv:5:2: fields of form 'screening' are not "
                               "together (the form starts at line 2)\n");
}

static void test_many_errors_are_all_reported_and_msg_is_cut_cleanly(void **state)
{
    (void)state;
    struct strbuf csv = STRBUF_INIT;
    strbuf_adds(&csv, REDCAP_HEADER);
    strbuf_adds(&csv, "record_id,f,,text,ID,,,,,,,,,,,,,\n");
    for (int i = 0; i < 60; i++)
        strbuf_addf(&csv, "x%d,f,,bogus,X,,,,,,,,,,,,,\n", i);
    struct dict d;
    struct err e;
    struct strbuf all = STRBUF_INIT;
    size_t n;
    err_clear(&e);
    assert_int_equal(dict_load_mem_full(strbuf_str(&csv), NULL, NULL, NULL, &d, &all, &n, &e),
                     ERR_INVALID);
    assert_int_equal(n, 60);
    assert_non_null(strstr(strbuf_str(&all), "dictionary.csv:62:4: field 'x59': unknown field "
                                             "type 'bogus'\n"));
    assert_non_null(strstr(e.msg, "more errors)"));
    assert_non_null(strstr(e.msg, "dictionary.csv:3:4: field 'x0': unknown field type"));
    strbuf_release(&all);
    strbuf_release(&csv);
}

static void test_csv_shape_error_and_missing_folder(void **state)
{
    (void)state;
    char csv[2048];
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER, "record_id,f,text\n");
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load_mem(csv, NULL, NULL, NULL, &d, &e), ERR_INVALID);
    assert_string_equal(e.msg, "dictionary.csv: line 2: 3 fields, the header has 18");
    assert_int_equal(dict_load(fixture("no_such_folder"), &d, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "no_such_folder/dictionary.csv"));
    assert_int_equal(dict_load_mem("a,b\n1,2\n", NULL, NULL, NULL, &d, &e), ERR_INVALID);
    assert_string_equal(e.msg, "dictionary.csv:1:1: 2 columns; a REDCap data dictionary has 18 "
                               "(17 without Field Annotation)\n"
                               "dictionary.csv:1:1: header 'a' should be 'Variable / Field "
                               "Name'\n"
                               "dictionary.csv:1:2: header 'b' should be 'Form Name'");
}

static void test_study_protocol_loads_when_present(void **state)
{
    (void)state;
    const char *dir = getenv("IOHEME_PROTOCOL");
    char path[1024];
    snprintf(path, sizeof path, "%s/dictionary.csv", dir ? dir : "");
    if (!dir || access(path, R_OK) != 0)
        skip();
    struct dict d;
    struct err e;
    err_clear(&e);
    if (dict_load(dir, &d, &e) != 0)
        fail_msg("%s", e.msg);
    assert_true(d.nfields > 0);
    dict_free(&d);
}

/* A dictionary saved in another encoding (Excel's Windows-1252 "CSV": é as the byte 0xE9) is
 * refused cell by cell, naming file, line and column; the first five, then a count. */
static void test_not_utf8_is_refused_where_it_is(void **state)
{
    (void)state;
    char csv[2048];
    int k = snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
                     "record_id,f,,text,ID,,,,,,,,,,,,,\n"
                     "age,f,,text,\xc3\x82ge (UTF-8),,,,,,,,,,,,,\n"
                     "dx,f,,text,Diagnostic pos\xe9,,,,,,,,,,,,,\n");
    for (int i = 0; i < 6; i++) /* six more such cells: five are shown in all */
        k += snprintf(csv + k, sizeof csv - (size_t)k, "f%d,f,,text,Pr\xe9nom,,,,,,,,,,,,,\n", i);
    const char *files[DICT_NFILES] = {csv};
    struct dict d;
    struct err e;
    struct strbuf all = STRBUF_INIT;
    size_t n = 0;
    err_clear(&e);
    assert_int_equal(dict_load_files(files, &d, &all, &n, &e), ERR_INVALID);
    const char *want = "dictionary.csv:4:5: not valid UTF-8 text: the file was saved in another "
                       "encoding (Windows-1252 or Latin-1?); save it as \"CSV UTF-8\"\n";
    assert_non_null(strstr(strbuf_str(&all), want));
    assert_non_null(strstr(strbuf_str(&all), "dictionary.csv:8:5: not valid UTF-8"));
    assert_null(strstr(strbuf_str(&all), "dictionary.csv:9:5: not valid UTF-8"));
    assert_non_null(
        strstr(strbuf_str(&all),
               "dictionary.csv:9: and 2 more cells from here on are not valid UTF-8 text"));
    assert_null(strstr(strbuf_str(&all), ":3:5:")); /* Âge is UTF-8 */
    strbuf_release(&all);
    dict_free(&d);
}

/* REDCap's export names a checkbox option's column with the code in lower case and anything
 * but letters and digits as '_': the one key parser maps those back to the dictionary's codes. */
static void test_checkbox_columns_as_redcap_exports_them(void **state)
{
    (void)state;
    char dir[] = "/tmp/ioheme-dict-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/dictionary.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("Variable / Field Name,Form Name,Section Header,Field Type,Field Label,\"Choices, "
          "Calculations, OR Slider Labels\",Field Note,Text Validation Type OR Show Slider "
          "Number,Text Validation Min,Text Validation Max,Identifier?,Branching Logic (Show field "
          "only if...),Required Field?,Custom Alignment,Question Number (surveys only),Matrix "
          "Group Name,Matrix Ranking?,Field Annotation\n"
          "record_id,f,,text,ID,,,,,,,,,,,,,\n"
          "cb,f,,checkbox,Box,\"ABC, Upper | -1, Minus one | x.y, Dotted | 2, Two\",,,,,,,,,,,,\n",
          f);
    fclose(f);
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load(dir, &d, &e), 0);
    struct dict_key k;
    assert_int_equal(dict_key_parse(&d, "cb___abc", &k), DICT_KEY_OPTION);
    assert_string_equal(k.code, "ABC");
    assert_int_equal(dict_key_parse(&d, "cb___ABC", &k), DICT_KEY_OPTION);
    assert_string_equal(k.code, "ABC");
    assert_int_equal(dict_key_parse(&d, "cb____1", &k), DICT_KEY_OPTION);
    assert_string_equal(k.code, "-1");
    assert_int_equal(dict_key_parse(&d, "cb___x_y", &k), DICT_KEY_OPTION);
    assert_string_equal(k.code, "x.y");
    assert_int_equal(dict_key_parse(&d, "cb___2", &k), DICT_KEY_OPTION);
    assert_string_equal(k.code, "2");
    assert_int_equal(dict_key_parse(&d, "cb___zzz", &k), DICT_KEY_OPTION); /* no such option: */
    assert_string_equal(k.code, "zzz"); /* as written, for the write path to name */
    /* the writer of REDCap's columns, read back by dict_key_parse to the same option */
    const char *codes[] = {"ABC", "-1", "x.y", "2"},
               *cols[] = {"cb___abc", "cb____1", "cb___x_y", "cb___2"};
    char buf[64];
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(dict_redcap_column("cb", codes[i], buf, sizeof buf), cols[i]);
        assert_int_equal(dict_key_parse(&d, buf, &k), DICT_KEY_OPTION);
        assert_string_equal(k.code, codes[i]);
    }
    assert_null(dict_redcap_column("cb", "ABC", buf, 8)); /* "cb___abc" and its NUL: 9 bytes */
    assert_non_null(dict_redcap_column("cb", "ABC", buf, 9));
    dict_free(&d);
    remove(path);
    rmdir(dir);
}

/* Smart variables take their values from where an expression is evaluated (dict_smart_value). */
static void test_smart_variables(void **state)
{
    (void)state;
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load(fixture("good"), &d, &e), 0);
    struct expr_value v;
    const struct dict_smart_who who = {"IOH-02-007", "02", "02"}, nobody = {"IOH-007", "", NULL};
    dict_smart_value(&d, "event-name", "day0_arm_1", 0, &nobody, &v);
    assert_int_equal(v.kind, EV_STR);
    assert_string_equal(v.str, "day0_arm_1");
    dict_smart_value(&d, "event-label", "day28_arm_1", 0, NULL, &v);
    assert_string_equal(v.str, "Day 28 follow-up");
    dict_smart_value(&d, "previous-event-name", "day0_arm_1", 0, NULL, &v);
    assert_string_equal(v.str, "screening_arm_1");
    dict_smart_value(&d, "previous-event-name", "screening_arm_1", 0, NULL, &v);
    assert_int_equal(v.kind, EV_BLANK); /* the first event has none */
    dict_smart_value(&d, "next-event-name", "day0_arm_1", 0, NULL, &v);
    assert_string_equal(v.str, "day28_arm_1");
    dict_smart_value(&d, "next-event-name", "day28_arm_1", 0, NULL, &v);
    assert_int_equal(v.kind, EV_BLANK);
    dict_smart_value(&d, "record-name", "day0_arm_1", 0, &nobody, &v);
    assert_string_equal(v.str, "IOH-007");
    /* a multi-centre study: the record's site and the user's one site (docs/sites.md) */
    dict_smart_value(&d, "record-dag-name", "day0_arm_1", 0, &who, &v);
    assert_int_equal(v.kind, EV_STR);
    assert_string_equal(v.str, "02");
    dict_smart_value(&d, "user-dag-name", "day0_arm_1", 0, &who, &v);
    assert_string_equal(v.str, "02");
    dict_smart_value(&d, "record-dag-name", "day0_arm_1", 0, &nobody, &v);
    assert_int_equal(v.kind, EV_BLANK); /* a record without a site */
    dict_smart_value(&d, "current-instance", "day0_arm_1", 3, NULL, &v);
    assert_int_equal(v.kind, EV_NUM);
    assert_true(v.num == 3);
    dict_smart_value(&d, "current-instance", "day0_arm_1", 0, NULL, &v);
    assert_int_equal(v.kind, EV_BLANK); /* a form that does not repeat */
    dict_smart_value(&d, "user-dag-name", "day0_arm_1", 0, NULL, &v);
    assert_int_equal(v.kind, EV_BLANK);
    dict_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_protocol_loads),
        cmocka_unit_test(test_not_utf8_is_refused_where_it_is),
        cmocka_unit_test(test_smart_variables),
        cmocka_unit_test(test_checkbox_columns_as_redcap_exports_them),
        cmocka_unit_test(test_in_memory_without_events_has_one_implicit_event),
        cmocka_unit_test(test_redcap_variants_load),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_bad_types),
        cmocka_unit_test(test_bad_choices),
        cmocka_unit_test(test_bad_minmax),
        cmocka_unit_test(test_bad_logic),
        cmocka_unit_test(test_bad_calc),
        cmocka_unit_test(test_bad_events),
        cmocka_unit_test(test_repeating_forms_have_a_maximum_instance),
        cmocka_unit_test(test_repeating_event_repeats_its_forms),
        cmocka_unit_test(test_instance_numbers_are_checked_before_narrowing),
        cmocka_unit_test(test_keys_are_fields_options_or_statuses),
        cmocka_unit_test(test_form_fields_must_be_together),
        cmocka_unit_test(test_many_errors_are_all_reported_and_msg_is_cut_cleanly),
        cmocka_unit_test(test_csv_shape_error_and_missing_folder),
        cmocka_unit_test(test_study_protocol_loads_when_present),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
