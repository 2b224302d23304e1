/* chart_svg.c — the SVG canvas: each drawing call becomes one element. */
#include "errand/chart.h"
#include "errand/buf.h"

#include <math.h>
#include <stdio.h>

static void esc(er_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': er_buf_puts(b, "&lt;"); break;
        case '>': er_buf_puts(b, "&gt;"); break;
        case '&': er_buf_puts(b, "&amp;"); break;
        case '"': er_buf_puts(b, "&quot;"); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                er_buf_putc(b, *s);
        }
    }
}

static void line(void *cv, double x1, double y1, double x2, double y2, const char *colour,
                 double width, bool dashed)
{
    er_buf_printf(cv,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                  "stroke-width=\"%.1f\"%s/>\n",
                  x1, y1, x2, y2, colour, width, dashed ? " stroke-dasharray=\"3,3\"" : "");
}

static void rect(void *cv, double x, double y, double w, double h, const char *fill)
{
    er_buf_printf(cv, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                  x, y, w, h, fill);
}

static void circle(void *cv, double x, double y, double r, const char *fill)
{
    er_buf_printf(cv,
                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
                  "fill-opacity=\"0.8\"/>\n",
                  x, y, r, fill);
}

static void polyline(void *cv, const double *xy, size_t n, const char *colour, double width)
{
    er_buf_puts(cv, "<polyline fill=\"none\" points=\"");
    for (size_t i = 0; i < n; i++)
        er_buf_printf(cv, "%s%.1f,%.1f", i ? " " : "", xy[2 * i], xy[2 * i + 1]);
    er_buf_printf(cv, "\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-linejoin=\"round\"/>\n",
                  colour, width);
}

static void wedge(void *cv, double cx, double cy, double r, double a0, double a1, const char *fill)
{
    if (a1 - a0 >= 2 * M_PI - 1e-9) {
        er_buf_printf(cv,
                      "<circle class=\"slice\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" "
                      "fill=\"%s\"/>\n",
                      cx, cy, r, fill);
        return;
    }
    er_buf_printf(cv,
                  "<path class=\"slice\" d=\"M%.1f,%.1f L%.2f,%.2f A%.1f,%.1f 0 %d 1 "
                  "%.2f,%.2f Z\" fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                  cx, cy, cx + sin(a0) * r, cy - cos(a0) * r, r, r, a1 - a0 > M_PI ? 1 : 0,
                  cx + sin(a1) * r, cy - cos(a1) * r, fill);
}

static void text(void *cv, double x, double y, const char *s, double size, char anchor,
                 double rotate, bool bold, const char *colour)
{
    er_buf_printf(cv,
                  "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" text-anchor=\"%s\" "
                  "fill=\"%s\"%s",
                  x, y, size,
                  anchor == 's'   ? "start"
                  : anchor == 'e' ? "end"
                                  : "middle",
                  colour, bold ? " font-weight=\"bold\"" : "");
    if (rotate != 0)
        er_buf_printf(cv, " transform=\"rotate(%.0f %.1f %.1f)\"", rotate, x, y);
    er_buf_puts(cv, ">");
    esc(cv, s);
    er_buf_puts(cv, "</text>\n");
}

static const er_canvas_ops svg_ops = { line, rect, circle, polyline, wedge, text };

char *er_chart_svg(const er_chart *c, int w, int h)
{
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                  "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
                  "data-kind=\"%s\">\n<title>",
                  w, h, w, h, er_chart_kind_name(c->kind));
    esc(&b, c->title);
    er_buf_puts(&b, "</title>\n");
    er_chart_draw(c, w, h, &svg_ops, &b);
    er_buf_puts(&b, "</svg>\n");
    return er_buf_detach(&b);
}
