// The chart of `lowbit compare --svg`: mean KL-divergence (log scale) against
// bits per weight, one labelled point per quantized file, as a standalone SVG
// document.
#pragma once

#include <string>
#include <vector>

namespace cli {

struct ChartPoint {
    std::string label; // the file's name
    double bpw = 0.0;
    double kld = 0.0; // mean KLD; 0, or below the axis (6 decades under the largest), drawn hollow on it
};

// title and subtitle are drawn above the plot.
std::string kld_chart_svg(const std::vector<ChartPoint> &points, const std::string &title,
                          const std::string &subtitle);

} // namespace cli
