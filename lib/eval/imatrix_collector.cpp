#include "eval/imatrix_collector.hpp"

#include "common/error.hpp"

#include <algorithm>

namespace lb::eval {

bool ImatrixCollector::wants(const std::string &weight, int64_t n_rows) const {
    if (n_rows < 16) return false;
    return weight.rfind("blk.", 0) == 0 || (process_output_ && weight == "output.weight");
}

void ImatrixCollector::add(const std::string &weight, const float *rows, int64_t n_rows, int64_t n_cols) {
    Stats &e = entries_[weight];
    const size_t ne0 = static_cast<size_t>(n_cols);
    if (e.counts.empty()) {
        e.sum2.assign(ne0, 0.0);
        e.counts.assign(1, 0.0);
    } else if (e.sum2.size() != ne0 * e.counts.size() || e.counts.size() != 1) {
        fail(LB_E_INVALID_ARG,
             "%s: imatrix entry %s holds %zu x %zu values, but the model's tensor %s takes rows of %lld: the "
             "file is for another model",
             e.origin.empty() ? "imatrix" : e.origin.c_str(), weight.c_str(), e.counts.size(),
             e.sum2.size() / std::max<size_t>(1, e.counts.size()), weight.c_str(),
             static_cast<long long>(n_cols));
    }
    if (with_in_sum_ && e.sum.size() != e.sum2.size()) e.sum.assign(e.sum2.size(), 0.0);
    for (int64_t r = 0; r < n_rows; ++r) {
        const float *x = rows + static_cast<size_t>(r) * ne0;
        for (size_t j = 0; j < ne0; ++j) e.sum2[j] += static_cast<double>(x[j]) * static_cast<double>(x[j]);
        if (with_in_sum_)
            for (size_t j = 0; j < ne0; ++j) e.sum[j] += static_cast<double>(x[j]);
    }
    e.counts[0] += static_cast<double>(n_rows);
}

void ImatrixCollector::merge(const imatrix::Imatrix &m) {
    for (const imatrix::Entry &in : m.entries) {
        Stats &e = entries_[in.name];
        const size_t n = in.sums.size();
        if (e.sum2.empty()) {
            e.sum2.assign(n, 0.0);
            e.counts.assign(m.legacy ? 1 : in.counts.size(), 0.0);
            e.origin = m.path;
        } else if (e.sum2.size() != n) {
            fail(LB_E_INVALID_ARG, "%s: imatrix entry %s has %zu values, but %s has %zu for it",
                 m.path.c_str(), in.name.c_str(), n, e.origin.c_str(), e.sum2.size());
        }
        if (m.legacy) {
            // sums are means times ncall, counts {ncall}: back to raw sums
            for (size_t j = 0; j < n; ++j) e.sum2[j] += static_cast<double>(in.sums[j]) * chunk_size_;
            for (double &c : e.counts) c += static_cast<double>(in.counts[0]) * chunk_size_;
            continue;
        }
        if (e.counts.size() == 1 && in.counts.size() > 1) e.counts.resize(in.counts.size(), e.counts[0]);
        if (e.counts.size() != in.counts.size())
            fail(LB_E_INVALID_ARG, "%s: imatrix entry %s has %zu counts, but %s has %zu for it",
                 m.path.c_str(), in.name.c_str(), in.counts.size(), e.origin.c_str(), e.counts.size());
        for (size_t j = 0; j < n; ++j) e.sum2[j] += static_cast<double>(in.sums[j]);
        for (size_t j = 0; j < in.counts.size(); ++j) e.counts[j] += static_cast<double>(in.counts[j]);
        if (with_in_sum_ && in.in_sums.size() == n) {
            e.sum.resize(n, 0.0);
            for (size_t j = 0; j < n; ++j) e.sum[j] += static_cast<double>(in.in_sums[j]);
        }
    }
    datasets_.insert(datasets_.end(), m.datasets.begin(), m.datasets.end());
}

uint32_t ImatrixCollector::chunk_count() const {
    double most = 0.0;
    for (const auto &[name, e] : entries_)
        for (double c : e.counts) most = std::max(most, c);
    return chunk_size_ == 0 ? 0 : static_cast<uint32_t>(most / chunk_size_);
}

imatrix::Imatrix ImatrixCollector::result(const std::string &dataset) const {
    imatrix::Imatrix m;
    m.datasets = datasets_;
    if (!dataset.empty()) m.datasets.push_back(dataset);
    m.chunk_count = chunk_count();
    m.chunk_size = chunk_size_;
    for (const auto &[name, e] : entries_) {
        imatrix::Entry out;
        out.name = name;
        out.sums.assign(e.sum2.begin(), e.sum2.end());
        out.counts.assign(e.counts.begin(), e.counts.end());
        if (with_in_sum_ && e.sum.size() == e.sum2.size()) out.in_sums.assign(e.sum.begin(), e.sum.end());
        m.entries.push_back(std::move(out));
    }
    return m;
}

} // namespace lb::eval
