#include "compare_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cli {

namespace {

constexpr double kWidth = 820, kHeight = 540;
constexpr double kLeft = 96, kRight = 40, kTop = 78, kBottom = 74;
constexpr double kX0 = kLeft, kX1 = kWidth - kRight, kY0 = kTop, kY1 = kHeight - kBottom;
constexpr double kLabelSize = 12;
constexpr int kDecades = 6; // of the KLD axis at most

std::string escape(const std::string &s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            // control characters are not allowed in XML 1.0
            if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
        }
    }
    return out;
}

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}

std::string text(double x, double y, const std::string &s, const std::string &attributes) {
    return std::string("<text x=\"") + num(x) + "\" y=\"" + num(y) + "\" " + attributes + ">" + escape(s) +
           "</text>\n";
}

std::string line(double xa, double ya, double xb, double yb, const char *stroke) {
    return std::string("<line x1=\"") + num(xa) + "\" y1=\"" + num(ya) + "\" x2=\"" + num(xb) + "\" y2=\"" +
           num(yb) + "\" stroke=\"" + stroke + "\" stroke-width=\"1\"/>\n";
}

// 10^d as a tick label: 0.001, 0.01 ... 1000, else 1e-5.
std::string decade_label(int d) {
    char b[32];
    if (d >= -3 && d <= 3)
        std::snprintf(b, sizeof b, "%g", std::pow(10.0, d));
    else
        std::snprintf(b, sizeof b, "1e%d", d);
    return b;
}

struct Box {
    double x0, y0, x1, y1;
    bool overlaps(const Box &o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

} // namespace

std::string kld_chart_svg(const std::vector<ChartPoint> &points, const std::string &title,
                          const std::string &subtitle) {
    // x: bits per weight, whole bits with some room around the points
    double bmin = 0, bmax = 8;
    if (!points.empty()) {
        bmin = bmax = points.front().bpw;
        for (const ChartPoint &p : points) bmin = std::min(bmin, p.bpw), bmax = std::max(bmax, p.bpw);
    }
    double lo = std::floor(bmin), hi = std::ceil(bmax);
    if (bmin - lo < 0.25) lo -= 1;
    if (hi - bmax < 0.25) hi += 1;
    lo = std::max(0.0, lo);
    const double step = hi - lo <= 12 ? 1 : hi - lo <= 24 ? 2 : 4;
    lo = std::floor(lo / step) * step;
    hi = std::ceil(hi / step) * step;
    // y: whole decades around the positive divergences
    int dlo = -4, dhi = 0;
    bool any = false;
    for (const ChartPoint &p : points) {
        if (!(p.kld > 0) || !std::isfinite(p.kld)) continue;
        const int a = static_cast<int>(std::floor(std::log10(p.kld))),
                  b = static_cast<int>(std::ceil(std::log10(p.kld)));
        dlo = any ? std::min(dlo, a) : a;
        dhi = any ? std::max(dhi, b) : b;
        any = true;
    }
    if (dhi <= dlo) dhi = dlo + 1;
    // at most kDecades: a near-lossless file (KLD 1e-9) would squeeze the others together
    dlo = std::max(dlo, dhi - kDecades);
    const double floor_kld = std::pow(10.0, dlo);
    // below the axis: drawn hollow on it
    auto off_scale = [&](double k) { return !(k >= floor_kld) || !std::isfinite(k); };
    auto X = [&](double b) { return kX0 + (b - lo) / (hi - lo) * (kX1 - kX0); };
    auto Y = [&](double k) {
        if (off_scale(k)) return kY1;
        return kY1 - (std::log10(k) - dlo) / (dhi - dlo) * (kY1 - kY0);
    };

    std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    s += std::string("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"") + num(kWidth) + "\" height=\"" +
         num(kHeight) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(kHeight) +
         "\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n";
    s += std::string("<title>") + escape(title) + "</title>\n";
    s += std::string("<rect x=\"0\" y=\"0\" width=\"") + num(kWidth) + "\" height=\"" + num(kHeight) +
         "\" fill=\"#ffffff\"/>\n";
    s += text(kWidth / 2, 32, title,
              "font-size=\"18\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#222\"");
    s += text(kWidth / 2, 54, subtitle, "font-size=\"13\" text-anchor=\"middle\" fill=\"#555\"");

    // grid and ticks
    s += "<g id=\"grid\">\n";
    for (int d = dlo; d < dhi; ++d)
        for (int m = 2; m <= 9; ++m) {
            const double y = Y(m * std::pow(10.0, d));
            s += line(kX0, y, kX1, y, "#f0f0f0");
        }
    for (int d = dlo; d <= dhi; ++d)
        s += line(kX0, Y(std::pow(10.0, d)), kX1, Y(std::pow(10.0, d)), "#d4d4d4");
    for (double b = lo; b <= hi + 1e-9; b += step) s += line(X(b), kY0, X(b), kY1, "#e4e4e4");
    s += "</g>\n<g id=\"axes\" font-size=\"12\" fill=\"#333\">\n";
    s += std::string("<rect x=\"") + num(kX0) + "\" y=\"" + num(kY0) + "\" width=\"" + num(kX1 - kX0) +
         "\" height=\"" + num(kY1 - kY0) + "\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>\n";
    for (double b = lo; b <= hi + 1e-9; b += step) {
        s += line(X(b), kY1, X(b), kY1 + 5, "#333");
        char label[16];
        std::snprintf(label, sizeof label, "%g", b);
        s += text(X(b), kY1 + 20, label, "text-anchor=\"middle\"");
    }
    for (int d = dlo; d <= dhi; ++d) {
        const double y = Y(std::pow(10.0, d));
        s += line(kX0 - 5, y, kX0, y, "#333");
        s += text(kX0 - 8, y + 4, decade_label(d), "text-anchor=\"end\"");
    }
    s += text((kX0 + kX1) / 2, kHeight - 26, "bits per weight", "font-size=\"14\" text-anchor=\"middle\"");
    s += std::string("<text x=\"22\" y=\"") + num((kY0 + kY1) / 2) +
         "\" font-size=\"14\" text-anchor=\"middle\" transform=\"rotate(-90 22 " + num((kY0 + kY1) / 2) +
         ")\">mean KL-divergence (nats, log scale)</text>\n";
    s += "</g>\n";

    // the points, then their labels where they collide least
    std::vector<Box> taken;
    for (const ChartPoint &p : points)
        taken.push_back({X(p.bpw) - 6, Y(p.kld) - 6, X(p.bpw) + 6, Y(p.kld) + 6});
    s += "<g id=\"points\">\n";
    for (const ChartPoint &p : points) {
        const bool zero = off_scale(p.kld);
        s += std::string("<circle cx=\"") + num(X(p.bpw)) + "\" cy=\"" + num(Y(p.kld)) +
             "\" r=\"5\" fill=\"" + (zero ? "#ffffff" : "#1f77b4") +
             "\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n";
    }
    s += std::string("</g>\n<g id=\"labels\" font-size=\"") + num(kLabelSize) + "\" fill=\"#111\">\n";
    for (const ChartPoint &p : points) {
        const bool zero = off_scale(p.kld);
        const std::string label = !zero       ? p.label
                                  : p.kld > 0 ? p.label + " (KLD < " + decade_label(dlo) + ")"
                                              : p.label + " (KLD 0)";
        const double w = 0.62 * kLabelSize * static_cast<double>(label.size()), x = X(p.bpw), y = Y(p.kld);
        struct Place {
            double dx, dy;
            bool end;
        };
        const Place places[] = {{9, -7, false},  {9, 16, false}, {-9, -7, true},  {-9, 16, true},
                                {9, -20, false}, {9, 29, false}, {-9, -20, true}, {-9, 29, true}};
        const Place *best = nullptr;
        Box box{};
        for (const Place &pl : places) {
            const double bx0 = pl.end ? x + pl.dx - w : x + pl.dx, by1 = y + pl.dy + 3;
            const Box b{bx0, by1 - kLabelSize - 1, bx0 + w, by1};
            if (b.x0 < kX0 + 2 || b.x1 > kX1 - 2 || b.y0 < kY0 + 1 || b.y1 > kY1) continue;
            const bool clear =
                std::none_of(taken.begin(), taken.end(), [&](const Box &t) { return t.overlaps(b); });
            if (best == nullptr || clear) {
                best = &pl;
                box = b;
            }
            if (clear) break;
        }
        if (best == nullptr) {
            best = &places[x > (kX0 + kX1) / 2 ? 2 : 0];
            box = {best->end ? x - 9 - w : x + 9, y - 7 - kLabelSize, best->end ? x - 9 : x + 9 + w, y - 4};
        }
        taken.push_back(box);
        s += text(x + best->dx, y + best->dy, label,
                  best->end ? "text-anchor=\"end\"" : "text-anchor=\"start\"");
    }
    s += "</g>\n</svg>\n";
    return s;
}

} // namespace cli
