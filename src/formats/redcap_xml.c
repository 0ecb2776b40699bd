/* REDCap's project XML (CDISC ODM 1.3.1 with redcap: extensions, "Download the project as XML")
 * as a protocol folder: dictionary.csv in REDCap's Data Dictionary format, and for a
 * longitudinal project events.csv and form_events.csv, and repeating.csv when instruments
 * repeat (formats/redcap.h). Read leniently, as REDCap's file is not valid against the ODM
 * schema (docs/redcap.md): only what the dictionary needs is read, and a field is written as
 * REDCap holds it:
 *
 *   - fields in form order (FormDef → ItemGroupRef → ItemRef), each once: a checkbox is one
 *     ItemDef per option (f___code) with redcap:Variable f, its choices in the option code
 *     list's redcap:CheckboxChoices; form-status (<form>_complete) and survey items
 *     (redcap_survey_identifier, <form>_timestamp: no redcap:FieldType) are not fields;
 *   - the type from redcap:FieldType (select → dropdown, textarea → notes); the validation
 *     from redcap:TextValidationType (int → integer, float → number, as the Data Dictionary
 *     names them); min and max from the RangeChecks (GE, LE); choices "code, label | ..." from
 *     the CodeList; label, section header, note, identifier, branching, required, alignment,
 *     question number, matrix group and ranking, annotation and a calc's calculation from
 *     their redcap: attributes.
 *
 * The libxml2 tree is parsed without network access and without entity substitution. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "formats/redcap.h"

#define REDCAP_NS "https://projectredcap.org"

/* An attribute (the redcap: one when rc), trimmed of nothing; NULL when absent. Owned by the
 * caller's strbuf pool: copied into ar. */
static const char *attr(struct arena *ar, xmlNodePtr n, const char *name, bool rc)
{
    xmlChar *v =
        rc ? xmlGetNsProp(n, BAD_CAST name, BAD_CAST REDCAP_NS) : xmlGetNoNsProp(n, BAD_CAST name);
    if (!v)
        return NULL;
    const char *s = arena_strdup(ar, (const char *)v);
    xmlFree(v);
    return s;
}

static bool is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

/* The text of <X><TranslatedText>…</TranslatedText></X>, or "". */
static const char *translated(struct arena *ar, xmlNodePtr n)
{
    xmlNodePtr t = child(n, "TranslatedText");
    if (!t)
        return "";
    xmlChar *v = xmlNodeGetContent(t);
    const char *s = arena_strdup(ar, v ? (const char *)v : "");
    xmlFree(v);
    return s;
}

/* The element of kind name whose OID is oid, among root's children. */
static xmlNodePtr by_oid(xmlNodePtr mdv, const char *name, const char *oid)
{
    for (xmlNodePtr c = mdv->children; oid && c; c = c->next) {
        if (!is(c, name))
            continue;
        xmlChar *o = xmlGetNoNsProp(c, BAD_CAST "OID");
        bool hit = o && strcmp((const char *)o, oid) == 0;
        xmlFree(o);
        if (hit)
            return c;
    }
    return NULL;
}

static const char *type_of(const char *ft)
{
    if (strcmp(ft, "select") == 0)
        return "dropdown";
    if (strcmp(ft, "textarea") == 0)
        return "notes";
    return ft;
}

static const char *validation_of(const char *v)
{
    if (!v)
        return "";
    if (strcmp(v, "int") == 0)
        return "integer";
    if (strcmp(v, "float") == 0)
        return "number";
    return v;
}

static void cell(struct strbuf *sb, const char *s, bool last)
{
    strbuf_add_csv_raw(sb, s ? s : "");
    strbuf_addc(sb, last ? '\n' : ',');
}

/* "code, label | code, label" from a CodeList. */
static const char *choices_of(struct arena *ar, xmlNodePtr cl)
{
    struct strbuf sb = STRBUF_INIT;
    for (xmlNodePtr c = cl ? cl->children : NULL; c; c = c->next) {
        if (!is(c, "CodeListItem"))
            continue;
        xmlChar *code = xmlGetNoNsProp(c, BAD_CAST "CodedValue");
        if (sb.len)
            strbuf_adds(&sb, " | ");
        strbuf_addf(&sb, "%s, %s", code ? (const char *)code : "",
                    translated(ar, child(c, "Decode")));
        xmlFree(code);
    }
    const char *s = arena_strdup(ar, strbuf_str(&sb));
    strbuf_release(&sb);
    return s;
}

static int write_file(const char *dir, const char *name, const struct strbuf *sb, struct err *e)
{
    char path[4096];
    if (!fmt_fits(path, sizeof path, "%s/%s", dir, name))
        return err_set_field(e, ERR_INVALID, "dir", "%s: path too long", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return err_set(e, ERR_IO, "%s: cannot create", path);
    bool ok = fwrite(strbuf_str(sb), 1, sb->len, f) == sb->len;
    if (fclose(f) != 0)
        ok = false;
    return ok ? 0 : err_set(e, ERR_IO, "%s: write failed", path);
}

/* Whether the field name (a redcap:Variable) was written already. */
static bool seen(const char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static int dictionary(struct arena *ar, xmlNodePtr mdv, struct strbuf *sb,
                      struct redcap_xml_stats *stats, struct err *e)
{
    strbuf_adds(sb, "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"
                    "\"Choices, Calculations, OR Slider Labels\",Field Note,Text Validation Type "
                    "OR Show Slider Number,Text Validation Min,Text Validation Max,Identifier?,"
                    "Branching Logic (Show field only if...),Required Field?,Custom Alignment,"
                    "Question Number (surveys only),Matrix Group Name,Matrix Ranking?,Field "
                    "Annotation\n");
    const char **names = NULL;
    size_t n = 0, cap = 0;
    for (xmlNodePtr fd = mdv->children; fd; fd = fd->next) {
        if (!is(fd, "FormDef"))
            continue;
        const char *form = attr(ar, fd, "FormName", true);
        if (!form)
            form = attr(ar, fd, "Name", false);
        if (!form)
            return err_set(e, ERR_INVALID, "a FormDef without a form name");
        stats->nforms++;
        for (xmlNodePtr gr = fd->children; gr; gr = gr->next) {
            if (!is(gr, "ItemGroupRef"))
                continue;
            xmlNodePtr g = by_oid(mdv, "ItemGroupDef", attr(ar, gr, "ItemGroupOID", false));
            for (xmlNodePtr ir = g ? g->children : NULL; ir; ir = ir->next) {
                if (!is(ir, "ItemRef"))
                    continue;
                xmlNodePtr it = by_oid(mdv, "ItemDef", attr(ar, ir, "ItemOID", false));
                const char *ft = it ? attr(ar, it, "FieldType", true) : NULL;
                const char *var = it ? attr(ar, it, "Variable", true) : NULL;
                if (!ft || !var) { /* survey metadata, not a field */
                    stats->nskipped += it != NULL;
                    continue;
                }
                size_t vl = strlen(var);
                if (vl > 9 && strcmp(var + vl - 9, "_complete") == 0 &&
                    strncmp(var, form, vl - 9) == 0 && form[vl - 9] == '\0')
                    continue; /* the form's status */
                if (seen(names, n, var))
                    continue; /* a checkbox's next option */
                const char **gn = arena_grow(ar, names, n, &cap, sizeof *gn, 64);
                if (!gn)
                    return err_set(e, ERR_NOMEM, "out of memory");
                names = gn;
                names[n++] = var;
                xmlNodePtr clr = child(it, "CodeListRef");
                xmlNodePtr cl =
                    clr ? by_oid(mdv, "CodeList", attr(ar, clr, "CodeListOID", false)) : NULL;
                const char *type = type_of(ft);
                const char *choices = "";
                if (strcmp(ft, "checkbox") == 0)
                    choices = cl ? attr(ar, cl, "CheckboxChoices", true) : NULL;
                else if (strcmp(ft, "calc") == 0)
                    choices = attr(ar, it, "Calculation", true);
                else if (strcmp(ft, "slider") == 0)
                    choices = attr(ar, it, "SliderLabels", true);
                else if (strcmp(ft, "yesno") != 0 && strcmp(ft, "truefalse") != 0 && cl)
                    choices = choices_of(ar, cl);
                const char *vmin = "", *vmax = "";
                for (xmlNodePtr rc = it->children; rc; rc = rc->next) {
                    if (!is(rc, "RangeCheck"))
                        continue;
                    xmlNodePtr cv = child(rc, "CheckValue");
                    xmlChar *v = cv ? xmlNodeGetContent(cv) : NULL;
                    const char *comp = attr(ar, rc, "Comparator", false);
                    const char *val = arena_strdup(ar, v ? (const char *)v : "");
                    xmlFree(v);
                    if (comp && strcmp(comp, "GE") == 0)
                        vmin = val;
                    else if (comp && strcmp(comp, "LE") == 0)
                        vmax = val;
                }
                cell(sb, var, false);
                cell(sb, form, false);
                cell(sb, attr(ar, it, "SectionHeader", true), false);
                cell(sb, type, false);
                cell(sb, translated(ar, child(it, "Question")), false);
                cell(sb, choices, false);
                cell(sb, attr(ar, it, "FieldNote", true), false);
                cell(sb, validation_of(attr(ar, it, "TextValidationType", true)), false);
                cell(sb, vmin, false);
                cell(sb, vmax, false);
                cell(sb, attr(ar, it, "Identifier", true), false);
                cell(sb, attr(ar, it, "BranchingLogic", true), false);
                cell(sb, attr(ar, it, "RequiredField", true), false);
                cell(sb, attr(ar, it, "CustomAlignment", true), false);
                cell(sb, attr(ar, it, "QuestionNumber", true), false);
                cell(sb, attr(ar, it, "MatrixGroupName", true), false);
                cell(sb, attr(ar, it, "MatrixRanking", true), false);
                cell(sb, attr(ar, it, "FieldAnnotation", true), true);
                stats->nfields++;
            }
        }
    }
    return sb->failed ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}

/* events.csv and form_events.csv from the StudyEventDefs, in the Protocol's order; a classic
 * project (one event, no redcap:UniqueEventName) has neither. */
static int events(struct arena *ar, xmlNodePtr mdv, struct strbuf *ev, struct strbuf *map,
                  struct redcap_xml_stats *stats)
{
    strbuf_adds(ev, "event_name,arm_num,day_offset,offset_min,offset_max,unique_event_name,"
                    "custom_event_label\n");
    strbuf_adds(map, "arm_num,unique_event_name,form\n");
    xmlNodePtr proto = child(mdv, "Protocol");
    for (xmlNodePtr r = proto ? proto->children : NULL; r; r = r->next) {
        if (!is(r, "StudyEventRef"))
            continue;
        xmlNodePtr sd = by_oid(mdv, "StudyEventDef", attr(ar, r, "StudyEventOID", false));
        const char *unique = sd ? attr(ar, sd, "UniqueEventName", true) : NULL;
        if (!unique)
            continue;
        const char *arm = attr(ar, sd, "ArmNum", true);
        const char *name = attr(ar, sd, "EventName", true);
        const char *d = attr(ar, sd, "DayOffset", true), *lo = attr(ar, sd, "OffsetMin", true),
                   *hi = attr(ar, sd, "OffsetMax", true);
        cell(ev, name ? name : attr(ar, sd, "Name", false), false);
        cell(ev, arm ? arm : "1", false);
        cell(ev, d ? d : "0", false);
        cell(ev, lo ? lo : "0", false);
        cell(ev, hi ? hi : "0", false);
        cell(ev, unique, false);
        cell(ev, attr(ar, sd, "CustomEventLabel", true), true);
        stats->nevents++;
        for (xmlNodePtr fr = sd->children; fr; fr = fr->next) {
            if (!is(fr, "FormRef"))
                continue;
            const char *form = attr(ar, fr, "FormName", true);
            if (!form)
                continue;
            cell(map, arm ? arm : "1", false);
            cell(map, unique, false);
            cell(map, form, true);
        }
    }
    return 0;
}

/* repeating.csv from GlobalVariables' redcap:RepeatingInstrumentsAndEvents: instruments
 * (event_name, form_name, custom_form_label; a classic project's without the event) and
 * whole repeating events (form_name blank). */
static void repeating(struct arena *ar, xmlNodePtr gv, bool longitudinal, struct strbuf *sb,
                      struct redcap_xml_stats *stats)
{
    strbuf_adds(sb, longitudinal ? "event_name,form_name,custom_form_label\n"
                                 : "form_name,custom_form_label\n");
    xmlNodePtr rie = NULL;
    for (xmlNodePtr c = gv ? gv->children : NULL; c && !rie; c = c->next)
        if (is(c, "RepeatingInstrumentsAndEvents"))
            rie = c;
    for (xmlNodePtr grp = rie ? rie->children : NULL; grp; grp = grp->next) {
        if (grp->type != XML_ELEMENT_NODE)
            continue;
        for (xmlNodePtr x = grp->children; x; x = x->next) {
            if (is(x, "RepeatingInstrument")) {
                if (longitudinal)
                    cell(sb, attr(ar, x, "UniqueEventName", true), false);
                cell(sb, attr(ar, x, "RepeatInstrument", true), false);
                cell(sb, attr(ar, x, "CustomLabel", true), true);
                stats->nrepeating++;
            } else if (is(x, "RepeatingEvent") && longitudinal) {
                cell(sb, attr(ar, x, "UniqueEventName", true), false);
                cell(sb, "", false);
                cell(sb, attr(ar, x, "CustomLabel", true), true);
                stats->nrepeating++;
            }
        }
    }
}

int redcap_project_xml_protocol(const char *name, const char *data, size_t len, const char *dir,
                                struct redcap_xml_stats *stats, struct err *e)
{
    memset(stats, 0, sizeof *stats);
    xmlDocPtr doc = xmlReadMemory(data, (int)len, name, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return err_set(e, ERR_INVALID, "%s: not well-formed XML", name);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr study = root && is(root, "ODM") ? child(root, "Study") : NULL;
    xmlNodePtr mdv = child(study, "MetaDataVersion");
    struct arena ar = ARENA_INIT;
    struct strbuf dict = STRBUF_INIT, ev = STRBUF_INIT, map = STRBUF_INIT, rep = STRBUF_INIT;
    int rc = 0;
    if (!mdv)
        rc = err_set(e, ERR_INVALID,
                     "%s: no ODM/Study/MetaDataVersion: not a REDCap project XML file", name);
    if (!rc)
        rc = dictionary(&ar, mdv, &dict, stats, e);
    if (!rc)
        rc = events(&ar, mdv, &ev, &map, stats);
    if (!rc) {
        repeating(&ar, child(study, "GlobalVariables"), stats->nevents > 0, &rep, stats);
        if (ev.failed || map.failed || rep.failed)
            rc = err_set(e, ERR_NOMEM, "out of memory");
    }
    if (!rc && stats->nfields == 0)
        rc = err_set(e, ERR_INVALID, "%s: no fields in its MetaDataVersion", name);
    if (!rc && mkdir(dir, 0755) != 0) {
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            rc = err_set_field(e, ERR_IO, "dir", "%s: cannot create the folder", dir);
    }
    if (!rc)
        rc = write_file(dir, "dictionary.csv", &dict, e);
    if (!rc && stats->nevents)
        rc = write_file(dir, "events.csv", &ev, e);
    if (!rc && stats->nevents)
        rc = write_file(dir, "form_events.csv", &map, e);
    if (!rc && stats->nrepeating)
        rc = write_file(dir, "repeating.csv", &rep, e);
    strbuf_release(&dict);
    strbuf_release(&ev);
    strbuf_release(&map);
    strbuf_release(&rep);
    arena_free(&ar);
    xmlFreeDoc(doc);
    return rc;
}
