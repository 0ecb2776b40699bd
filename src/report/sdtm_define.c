/* define.xml for `ioheme export xpt` (sdtm_int.h): Define-XML 2.0 describing the transport
 * files sdtm.c wrote, from the same domain definitions. */
#include "report/sdtm_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/utf8.h"

static void xml_text(struct strbuf *sb, const char *s)
{
    char *tmp;
    const char *t = utf8_xml_text(s ? s : "", &tmp); /* a label of an old study's protocol */
    if (!t)
        sb->failed = true;
    strbuf_add_html(sb, t ? t : ""); /* &, <, >, " and ' escaped: valid XML too */
    free(tmp);
}

/* Whether SDTMIG 3.2 makes variable name of a domain Required (define.xml's Mandatory): the
 * identifiers, every --SEQ, a finding's --TESTCD and --TEST, an event's or intervention's topic
 * (--TERM, --DECOD, --TRT), DM's subject, site, sex and arm, a SUPP--'s qualifier. */
static bool sdtm_required(const char *name)
{
    static const char *const req[] = {"STUDYID", "DOMAIN", "USUBJID", "SUBJID",  "SITEID",
                                      "SEX",     "ARMCD",  "ARM",     "COUNTRY", "RDOMAIN",
                                      "QNAM",    "QLABEL", "QVAL",    "QORIG",   "AETERM",
                                      "AEDECOD", "DSTERM", "DSDECOD", "PRTRT",   "ECTRT"};
    for (size_t i = 0; i < N(req); i++)
        if (strcmp(name, req[i]) == 0)
            return true;
    size_t n = strlen(name);
    return (n == 5 && strcmp(name + 2, "SEQ") == 0) ||
           (n == 8 && strcmp(name + 2, "TESTCD") == 0) || (n == 6 && strcmp(name + 2, "TEST") == 0);
}

void dataset_sdtm_define_xml(const struct dom *D, const struct dataset_spool *sp, size_t n,
                             const char *when, const char *title, struct strbuf *sb)
{
    strbuf_adds(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<ODM xmlns=\"http://www.cdisc.org/ns/odm/v1.3\" "
                    "xmlns:def=\"http://www.cdisc.org/ns/def/v2.0\" "
                    "xmlns:xlink=\"http://www.w3.org/1999/xlink\" ODMVersion=\"1.3.2\" "
                    "FileType=\"Snapshot\" FileOID=\"IOHEME.DEFINE\" CreationDateTime=\"");
    xml_text(sb, when);
    strbuf_adds(sb, "\" Originator=\"ioheme\" SourceSystem=\"ioheme\">\n"
                    " <Study OID=\"" STUDYID "\">\n  <GlobalVariables>\n"
                    "   <StudyName>" STUDYID "</StudyName>\n"
                    "   <StudyDescription>");
    xml_text(sb, title && *title ? title : STUDYID); /* study.csv's title */
    strbuf_adds(sb, "</StudyDescription>\n"
                    "   <ProtocolName>" STUDYID "</ProtocolName>\n  </GlobalVariables>\n"
                    "  <MetaDataVersion OID=\"MDV." STUDYID "\" Name=\"SDTM-like tabulation\" "
                    "def:DefineVersion=\"2.0.0\" def:StandardName=\"SDTM-IG\" "
                    "def:StandardVersion=\"3.2\">\n");
    for (size_t i = 0; i < n; i++) {
        const struct dom *d = &D[i];
        bool supp = strncmp(d->member, "SUPP", 4) == 0;
        strbuf_addf(
            sb,
            "   <ItemGroupDef OID=\"IG.%s\" Name=\"%s\" Repeating=\"%s\" "
            "IsReferenceData=\"No\" SASDatasetName=\"%s\" Domain=\"%s\" Purpose=\"Tabulation\" "
            "def:Structure=\"",
            d->member, d->member, strcmp(d->member, "DM") == 0 ? "No" : "Yes", d->member,
            supp ? d->member + 4 : d->member);
        xml_text(sb, d->structure);
        strbuf_addf(sb,
                    "\" def:ArchiveLocationID=\"LF.%s\">\n    <Description><TranslatedText "
                    "xml:lang=\"en\">",
                    d->member);
        xml_text(sb, d->label);
        strbuf_adds(sb, "</TranslatedText></Description>\n");
        for (size_t c = 0; c < d->t.ncols; c++)
            strbuf_addf(
                sb, "    <ItemRef ItemOID=\"IT.%s.%s\" OrderNumber=\"%zu\" Mandatory=\"%s\"/>\n",
                d->member, d->t.cols[c].name, c + 1,
                sdtm_required(d->t.cols[c].name) ? "Yes" : "No");
        char file[16];
        fmt_exact(file, sizeof file, "%s", d->member);
        for (char *p = file; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        strbuf_addf(sb,
                    "    <def:leaf ID=\"LF.%s\" xlink:href=\"%s.xpt\"><def:title>%s.xpt</def:title>"
                    "</def:leaf>\n   </ItemGroupDef>\n",
                    d->member, file, file);
    }
    for (size_t i = 0; i < n; i++) {
        const struct dom *d = &D[i];
        for (size_t c = 0; c < d->t.ncols; c++) {
            const struct acol *col = &d->t.cols[c];
            bool text = col->type == ACOL_TEXT;
            bool dtc = text && strlen(col->name) > 3 &&
                       strcmp(col->name + strlen(col->name) - 3, "DTC") == 0;
            strbuf_addf(
                sb, "   <ItemDef OID=\"IT.%s.%s\" Name=\"%s\" SASFieldName=\"%s\" DataType=\"%s\"",
                d->member, col->name, col->name, col->name,
                dtc    ? "datetime"
                : text ? "text"
                       : "float");
            if (text)
                strbuf_addf(sb, " Length=\"%zu\"", sp[i].widths[c]);
            strbuf_adds(sb, ">\n    <Description><TranslatedText xml:lang=\"en\">");
            xml_text(sb, col->desc);
            strbuf_adds(sb, "</TranslatedText></Description>\n");
            char o = d->origins[c];
            if (strcmp(col->name, "SEX") == 0)
                strbuf_adds(sb, "    <CodeListRef CodeListOID=\"CL.SEX\"/>\n");
            else if (strcmp(col->name, "AESER") == 0 || strcmp(col->name, "DTHFL") == 0)
                strbuf_adds(sb, "    <CodeListRef CodeListOID=\"CL.NY\"/>\n");
            strbuf_addf(sb, "    <def:Origin Type=\"%s\"/>\n   </ItemDef>\n",
                        o == 'C'   ? "CRF"
                        : o == 'D' ? "Derived"
                                   : "Assigned");
        }
    }
    strbuf_adds(sb,
                "   <CodeList OID=\"CL.SEX\" Name=\"Sex\" DataType=\"text\">\n"
                "    <CodeListItem CodedValue=\"F\"><Decode><TranslatedText xml:lang=\"en\">Female"
                "</TranslatedText></Decode></CodeListItem>\n"
                "    <CodeListItem CodedValue=\"M\"><Decode><TranslatedText xml:lang=\"en\">Male"
                "</TranslatedText></Decode></CodeListItem>\n"
                "    <CodeListItem CodedValue=\"U\"><Decode><TranslatedText xml:lang=\"en\">Unknown"
                "</TranslatedText></Decode></CodeListItem>\n   </CodeList>\n"
                "   <CodeList OID=\"CL.NY\" Name=\"No Yes Response\" DataType=\"text\">\n"
                "    <CodeListItem CodedValue=\"N\"><Decode><TranslatedText xml:lang=\"en\">No"
                "</TranslatedText></Decode></CodeListItem>\n"
                "    <CodeListItem CodedValue=\"Y\"><Decode><TranslatedText xml:lang=\"en\">Yes"
                "</TranslatedText></Decode></CodeListItem>\n   </CodeList>\n"
                "  </MetaDataVersion>\n </Study>\n</ODM>\n");
}
