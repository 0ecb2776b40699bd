/* Checks one value against its field in the dictionary: the rules of REDCap's data entry.
 *
 * Hard errors block a save: wrong type (not an integer, not a number, not a date_ymd …),
 * a code not in the choice list, text on a calc/descriptive field, too many decimals for
 * number_Ndp, a value on a checkbox option that is not 0/1. Out-of-range against min/max is soft
 * (saved and flagged) unless the field carries @FORCE-MINMAX. Required-ness is checked by
 * validate_required when a form is marked complete. Values are canonicalised (dates of every
 * order as YYYY-MM-DD[ HH:MM[:SS]], whether entered so or in the field's own MM-DD-YYYY /
 * DD-MM-YYYY; numbers as written, a decimal comma too; trimmed) into out->canonical. A slider
 * takes an integer between its min and max (0 and 100 when the dictionary gives none).
 * docs/redcap.md lists every validation type. */
#ifndef IOHEME_CORE_VALIDATE_H
#define IOHEME_CORE_VALIDATE_H

#include <stdbool.h>

#include "core/dict.h"

enum validate_level { VALID_OK = 0, VALID_SOFT = 1, VALID_HARD = 2 };

#define VALIDATE_VALUE_MAX 65535

struct validate_result {
    enum validate_level level;
    const char *rule; /* static string: "integer", "number", "date_ymd", "choice", "min",
                         "max", "decimals", "calc", "checkbox", "required", "length", "utf8" */
    /* value to store when level != VALID_HARD: up to VALIDATE_VALUE_MAX characters, REDCap's own
     * limit for a text or notes value (a MySQL TEXT column); a longer one is refused, rule
     * "length" */
    char canonical[VALIDATE_VALUE_MAX + 1];
    char msg[512]; /* "field 'age': 'abc' is not an integer" — names field, rule, value */
};

/* code is the checkbox option for checkbox fields (value then must be "0"/"1"), else NULL.
 * An empty value is always valid (it clears the field). */
enum validate_level validate_value(const struct dict_field *f, const char *code, const char *value,
                                   struct validate_result *r);

/* The decimal separator a number type is written with ('.' or ','); '\0' for integer and for
 * a type that is no number. */
char validate_decimal_sep(enum val_type t);
/* A stored value of field f as logic (branching, calcs, filterLogic) reads it: the text, but a
 * number of a _comma_decimal type written with its comma ("52,3") as that number, as REDCap's
 * calculations read it (a BMI from "1,54" m and "52,3" kg). The one place a stored value
 * becomes an expr_value; out->str points at stored. f NULL: the text. */
void validate_logic_value(const struct dict_field *f, const char *stored, struct expr_value *out);
/* True for the validation types whose values have an order (numbers, dates, date-times,
 * times), i.e. those that may carry a min/max. */
bool validate_type_is_ordered(enum val_type t);

/* Parses s as a value of the ordered type t into *out: the number itself (a decimal comma for
 * the _comma_decimal types); date_* as days since 1970-01-01; datetime_* as seconds since
 * 1970-01-01 00:00 (UTC), the _mdy / _dmy types in their own order or as ISO; time (HH:MM),
 * time_hh_mm_ss and time_mm_ss (MM:SS) as seconds. False when s is malformed for t (or t has
 * no order). */
bool validate_parse_ordered(enum val_type t, const char *s, double *out);

/* What a min or max of "today" (now false) or "now" reads on a field of type t, from wall, the
 * site's wall-clock "YYYY-MM-DD HH:MM:SS": the date for a date field; for a datetime field its
 * midnight (today) or the minute / second (now); the time for a time field (now only). In the
 * field's stored form, written to out. False when type t takes no such bound. */
bool validate_clock_text(enum val_type t, bool now, const char *wall, char *out, size_t n);

/* How a value of type t is entered, for a form's placeholder: "MM-DD-YYYY HH:MM",
 * "YYYY-MM-DD", "HH:MM" …; NULL for a type without one. */
const char *validate_entry_shape(enum val_type t);

/* A stored value of type t as the form shows it: a date of a _mdy / _dmy type, stored ISO,
 * in the type's own order (MM-DD-YYYY[ HH:MM[:SS]], DD-MM-YYYY…) into out, true; false (out
 * untouched: show stored as it is) for any other type, or a value not in the stored form. */
bool validate_display(enum val_type t, const char *stored, char *out, size_t n);

/* Checks value (as stored: validate_value's canonical) against f's "today" / "now" bounds
 * (dict_field.min_clock, max_clock) read on wall, the site's wall-clock now ("YYYY-MM-DD
 * HH:MM:SS"): a value after today is VALID_SOFT (flagged) or, with @FORCE-MINMAX, VALID_HARD,
 * rule "min" / "max", the message naming the bound and the date it read. VALID_OK for a blank
 * value or a field without such bounds. */
enum validate_level validate_clock_bounds(const struct dict_field *f, const char *value,
                                          const char *wall, struct validate_result *r);

/* A bound piped from another field ("[lmp]"), text as that field stores it, made the shape of a
 * value of type t, written to out: a datetime's date for a date field, a date's midnight for a
 * datetime field ("2026-01-05" as "2026-01-05 00:00"), seconds cut or added for a time; other
 * text as it is. False when it does not fit in n bytes. */
bool validate_bound_fit(enum val_type t, const char *text, char *out, size_t n);

/* Checks value (as stored) against f's bounds piped from other fields (dict_field.min_ref,
 * max_ref), min and max being those fields' values now (NULL or "" when blank: no check), as
 * REDCap does when the value is entered: outside them is VALID_SOFT (flagged) or, with
 * @FORCE-MINMAX, VALID_HARD, rule "min" / "max", the message naming the bound as written and
 * the value it read. A bound that is no value of f's type is not checked. */
enum validate_level validate_piped_bounds(const struct dict_field *f, const char *value,
                                          const char *min, const char *max,
                                          struct validate_result *r);

/* The check made when a form is marked complete: a required field (Required Field? = y) that is
 * shown (the caller evaluates branching logic; hidden fields are not checked) must have a
 * value. VALID_HARD with rule "required" when value is NULL or blank, else VALID_OK. For a
 * checkbox, value is "1" when any option is ticked. */
enum validate_level validate_required(const struct dict_field *f, const char *value,
                                      struct validate_result *r);

#endif
