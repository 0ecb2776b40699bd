/* Formatting for the HTML study report (see html_out.h): numbers the same way everywhere
 * (percentages to one decimal, p-values to three decimals or "< 0.001", medians with [IQR]),
 * table cells, the SAP badge and embedded figures. */
#include "report/html_out.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"

/* ---- number formatting --------------------------------------------------------------------*/

const json_t *rh_jp(const json_t *o, const char *path)
{
    /* "a.b.c" */
    char key[64];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        if (len >= sizeof key)
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        o = json_object_get(o, key);
        path += len + (dot ? 1 : 0);
    }
    return o;
}

double rh_jd(const json_t *o, const char *path)
{
    const json_t *v = rh_jp(o, path);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *rh_js(const json_t *o, const char *path)
{
    const char *s = json_string_value(rh_jp(o, path));
    return s ? s : "";
}

double rh_jai(const json_t *o, const char *path, size_t i)
{
    const json_t *v = json_array_get(rh_jp(o, path), i);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

void rh_num(struct strbuf *sb, double x, int dp)
{
    if (!isfinite(x)) {
        strbuf_adds(sb, "NA");
        return;
    }
    char buf[64];
    fmt_text(buf, sizeof buf, "%.*f", dp, x);
    /* a tiny negative rounds to "-0.00": print it as zero */
    bool is_zero = strspn(buf, "-0.") == strlen(buf);
    strbuf_adds(sb, is_zero && buf[0] == '-' ? buf + 1 : buf);
}

void rh_pct(struct strbuf *sb, double p)
{
    rh_num(sb, 100 * p, 1);
    if (isfinite(p))
        strbuf_addc(sb, '%');
}

void rh_pval(struct strbuf *sb, double p)
{
    if (!isfinite(p))
        strbuf_adds(sb, "NA");
    else if (p < 0.001)
        strbuf_adds(sb, "&lt; 0.001");
    else
        strbuf_addf(sb, "%.3f", p);
}

/* "a–b" from a [l, u] array, scaled (100 for percentages), dp decimals, suffix. */
void rh_ci(struct strbuf *sb, const json_t *o, const char *path, double scale, int dp,
           const char *suffix)
{
    double lo = scale * rh_jai(o, path, 0), hi = scale * rh_jai(o, path, 1);
    rh_num(sb, lo, dp);
    /* an en dash between two numbers reads as a minus when one is negative */
    strbuf_adds(sb, lo < 0 || hi < 0 ? " to " : "–");
    rh_num(sb, hi, dp);
    strbuf_adds(sb, suffix);
}

/* "median [q1–q3]" of a describe object. */
void rh_miqr(struct strbuf *sb, const json_t *d, int dp)
{
    if (rh_jd(d, "n") > 0) {
        rh_num(sb, rh_jd(d, "median"), dp);
        strbuf_adds(sb, " [");
        double q1 = rh_jd(d, "q1"), q3 = rh_jd(d, "q3");
        rh_num(sb, q1, dp);
        strbuf_adds(sb, q1 < 0 || q3 < 0 ? " to " : "–");
        rh_num(sb, q3, dp);
        strbuf_adds(sb, "]");
    } else {
        strbuf_adds(sb, "—");
    }
}

void rh_sap(struct strbuf *sb, const char *s)
{
    strbuf_addf(sb, " <span class=\"sap\">SAP %s</span>", s);
}

void rh_h2(struct strbuf *sb, struct rh_sections *n, const char *id, const char *title,
           const char *sap)
{
    n->h2++;
    n->h3 = 0;
    strbuf_adds(sb, "<h2");
    if (id)
        strbuf_addf(sb, " id=\"%s\"", id);
    strbuf_addf(sb, ">%d. ", n->h2);
    strbuf_add_html(sb, title);
    if (sap)
        rh_sap(sb, sap);
    strbuf_adds(sb, "</h2>\n");
}

void rh_h3(struct strbuf *sb, struct rh_sections *n, const char *title, const char *sap)
{
    n->h3++;
    strbuf_addf(sb, "<h3>%d.%d ", n->h2, n->h3);
    strbuf_add_html(sb, title);
    if (sap)
        rh_sap(sb, sap);
    strbuf_adds(sb, "</h3>\n");
}

void rh_td_text(struct strbuf *sb, const char *s)
{
    strbuf_adds(sb, "<td>");
    strbuf_add_html(sb, s);
    strbuf_adds(sb, "</td>");
}

void rh_td_int(struct strbuf *sb, double x)
{
    strbuf_adds(sb, "<td class=\"n\">");
    rh_num(sb, x, 0);
    strbuf_adds(sb, "</td>");
}

void rh_td_miqr(struct strbuf *sb, const json_t *d, int dp)
{
    strbuf_adds(sb, "<td class=\"n\">");
    rh_miqr(sb, d, dp);
    strbuf_adds(sb, "</td>");
}

/* A proportion cell group: x/n, %, exact CI. */
void rh_td_prop(struct strbuf *sb, const json_t *p)
{
    strbuf_adds(sb, "<td class=\"n\">");
    rh_num(sb, rh_jd(p, "x"), 0);
    strbuf_adds(sb, "/");
    rh_num(sb, rh_jd(p, "n"), 0);
    strbuf_adds(sb, "</td><td class=\"n\">");
    rh_pct(sb, rh_jd(p, "estimate"));
    strbuf_adds(sb, "</td><td class=\"n\">");
    rh_ci(sb, p, "ci_exact", 100, 1, "%");
    strbuf_adds(sb, "</td>");
}

void rh_figure(struct strbuf *sb, const struct report_fig *figs, size_t nfigs, const char *name)
{
    for (size_t i = 0; i < nfigs; i++) {
        if (strcmp(figs[i].name, name) != 0)
            continue;
        size_t len = sodium_base64_encoded_len(figs[i].svg.len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(len);
        if (!b64) {
            sb->failed = true;
            return;
        }
        sodium_bin2base64(b64, len, (const unsigned char *)strbuf_str(&figs[i].svg),
                          figs[i].svg.len, sodium_base64_VARIANT_ORIGINAL);
        strbuf_addf(sb, "<figure id=\"fig-%s\"><img alt=\"", name);
        strbuf_add_html(sb, figs[i].caption);
        strbuf_addf(sb, "\" src=\"data:image/svg+xml;base64,%s\"><figcaption>", b64);
        strbuf_add_html(sb, figs[i].caption);
        rh_sap(sb, figs[i].sap);
        strbuf_addf(sb, " — files: figures/%s.svg, .pdf, .png</figcaption></figure>\n", name);
        free(b64);
    }
}
