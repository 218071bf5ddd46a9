#include "eval/kld_stats.hpp"

#include <algorithm>
#include <cmath>

namespace lb::eval {

namespace {

// mean and standard error of the mean, from the sums of x and x^2
Estimate mean_and_error(double sum, double sum2, uint64_t count) {
    if (count == 0) return {};
    const double n = static_cast<double>(count), mean = sum / n, var = sum2 / n - mean * mean;
    return {mean, var > 0 && count > 1 ? std::sqrt(var / (n - 1)) : 0.0};
}

// covariance of the means of a and b
double covariance(double sum_a, double sum_b, double sum_ab, uint64_t count) {
    if (count < 2) return 0.0;
    const double n = static_cast<double>(count);
    return (sum_ab / n - (sum_a / n) * (sum_b / n)) / (n - 1);
}

double percentile(const std::vector<float> &sorted, double fraction) {
    if (fraction <= 0) return sorted.front();
    if (fraction >= 1) return sorted.back();
    const double p = fraction * static_cast<double>(sorted.size() - 1);
    const size_t i = static_cast<size_t>(p);
    const double t = p - static_cast<double>(i);
    return (1 - t) * sorted[i] + t * sorted[std::min(i + 1, sorted.size() - 1)];
}

Quantiles quantiles(std::vector<float> v) {
    Quantiles q;
    if (v.empty()) return q;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    q.min = v.front();
    q.max = v.back();
    q.median = n % 2 == 0 ? 0.5 * (static_cast<double>(v[n / 2]) + v[n / 2 - 1]) : v[n / 2];
    q.p0_1 = percentile(v, 0.001);
    q.p1 = percentile(v, 0.01);
    q.p5 = percentile(v, 0.05);
    q.p10 = percentile(v, 0.10);
    q.p25 = percentile(v, 0.25);
    q.p75 = percentile(v, 0.75);
    q.p90 = percentile(v, 0.90);
    q.p95 = percentile(v, 0.95);
    q.p99 = percentile(v, 0.99);
    q.p99_9 = percentile(v, 0.999);
    return q;
}

} // namespace

namespace {

// exp(-q / kLogProbScale) for every stored q (one table for the process,
// 512 KiB): a base log-probability's exponential is exp(top) times it.
const std::vector<double> &exp_table() {
    static const std::vector<double> table = [] {
        std::vector<double> t(kNegligible);
        for (size_t q = 0; q < t.size(); ++q) t[q] = std::exp(-static_cast<double>(q) / kLogProbScale);
        return t;
    }();
    return table;
}

} // namespace

PositionScore score_position(const float *logits, const BasePosition &base, int64_t n_vocab, int32_t target) {
    int64_t best = 0;
    for (int64_t i = 1; i < n_vocab; ++i)
        if (logits[i] > logits[best]) best = i;
    double sum = 0.0;
    for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - logits[best]);
    const double log_norm =
        static_cast<double>(logits[best]) + std::log(sum); // log p_i = logits_i - log_norm
    PositionScore s;
    s.nll = log_norm - static_cast<double>(logits[target]);
    s.nll_base = base.nll;
    // KL(base || Q) over the base's tokens that are not negligible, their
    // rounded log-probabilities renormalised to the exact mass they hold: that
    // cancels the first-order effect of the rounding to 1/4096 nat
    const std::vector<double> &e = exp_table();
    double base_sum = 0.0;
    for (int64_t i = 0; i < n_vocab; ++i)
        if (base.q[i] != kNegligible) base_sum += e[base.q[i]];
    // p_base,i = exp(top) e[q_i] / renormalisation = e[q_i] * weight
    const double weight = std::exp(static_cast<double>(base.kept)) / base_sum;
    const double log_weight = static_cast<double>(base.kept) - std::log(base_sum);
    double kld = 0.0;
    for (int64_t i = 0; i < n_vocab; ++i) {
        if (base.q[i] == kNegligible) continue;
        const double lp_base = log_weight - base.q[i] / kLogProbScale;
        kld += e[base.q[i]] * weight * (lp_base - (static_cast<double>(logits[i]) - log_norm));
    }
    s.kld = kld;
    s.dp = std::exp(-s.nll) - std::exp(-s.nll_base);
    s.same_top = best == base.argmax;
    return s;
}

void KldAccumulator::add(const PositionScore &s) {
    sum_nll_ += s.nll;
    sum_nll2_ += s.nll * s.nll;
    sum_nll_base_ += s.nll_base;
    sum_nll_base2_ += s.nll_base * s.nll_base;
    sum_nll_nll_base_ += s.nll * s.nll_base;
    sum_kld_ += s.kld;
    sum_kld2_ += s.kld * s.kld;
    sum_dp_ += s.dp;
    sum_dp2_ += s.dp * s.dp;
    sum_dp4_ += s.dp * s.dp * s.dp * s.dp;
    if (s.same_top) ++same_top_;
    ++count_;
    kld_values_.push_back(static_cast<float>(s.kld));
    dp_values_.push_back(static_cast<float>(s.dp));
}

KldReport KldAccumulator::report() const {
    KldReport r;
    r.n_scored = count_;
    r.n_chunks = n_chunks_;
    r.n_chunks_total = n_chunks_total_;
    r.n_ctx = n_ctx_;
    if (count_ == 0) return r;
    const Estimate ln_ppl = mean_and_error(sum_nll_, sum_nll2_, count_);
    const Estimate ln_ppl_base = mean_and_error(sum_nll_base_, sum_nll_base2_, count_);
    const double cov = covariance(sum_nll_, sum_nll_base_, sum_nll_nll_base_, count_);
    r.ppl = {std::exp(ln_ppl.value), std::exp(ln_ppl.value) * ln_ppl.uncertainty};
    r.ppl_base = {std::exp(ln_ppl_base.value), std::exp(ln_ppl_base.value) * ln_ppl_base.uncertainty};
    const double product = ln_ppl.uncertainty * ln_ppl_base.uncertainty;
    r.ln_ppl_correlation = product > 0 ? cov / product : 0.0;
    const double ratio_error =
        std::sqrt(std::max(0.0, ln_ppl.uncertainty * ln_ppl.uncertainty +
                                    ln_ppl_base.uncertainty * ln_ppl_base.uncertainty - 2.0 * cov));
    r.ln_ppl_ratio = {ln_ppl.value - ln_ppl_base.value, ratio_error};
    r.ppl_ratio = {std::exp(r.ln_ppl_ratio.value), std::exp(r.ln_ppl_ratio.value) * ratio_error};
    const double ppl_cov = r.ppl.value * r.ppl_base.value * cov;
    r.ppl_difference = {
        r.ppl.value - r.ppl_base.value,
        std::sqrt(std::max(0.0, r.ppl.uncertainty * r.ppl.uncertainty +
                                    r.ppl_base.uncertainty * r.ppl_base.uncertainty - 2.0 * ppl_cov))};
    r.kld = mean_and_error(sum_kld_, sum_kld2_, count_);
    r.kld_quantiles = quantiles(kld_values_);
    r.delta_p = mean_and_error(sum_dp_, sum_dp2_, count_);
    r.delta_p_quantiles = quantiles(dp_values_);
    const Estimate mse = mean_and_error(sum_dp2_, sum_dp4_, count_);
    const double rms = std::sqrt(mse.value);
    r.delta_p_rms = {rms, rms > 0 ? 0.5 / rms * mse.uncertainty : 0.0};
    const double top = static_cast<double>(same_top_) / static_cast<double>(count_);
    r.same_top = {top, count_ > 1 ? std::sqrt(top * (1 - top) / static_cast<double>(count_ - 1)) : 0.0};
    return r;
}

} // namespace lb::eval
