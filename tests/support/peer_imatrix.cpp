#include "peer_imatrix.hpp"

#include "lowbit/lowbit.h"

namespace peer {

bool read_imatrix_entries(const std::string &path, ImatrixEntries &out, std::string *error) {
    out = ImatrixEntries{};
    lb_model *m = nullptr;
    if (lb_model_open(&m, path.c_str()) != LB_OK) {
        *error = lb_last_error();
        return false;
    }
    const std::string suffix = ".in_sum2";
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        const std::string name = lb_model_tensor_name(m, i);
        if (name.size() <= suffix.size() ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string weight = name.substr(0, name.size() - suffix.size());
        size_t ci = 0;
        const void *sums = nullptr, *counts = nullptr;
        uint64_t sum_bytes = 0, count_bytes = 0;
        if (lb_model_tensor_find(&ci, m, (weight + ".counts").c_str()) != LB_OK ||
            lb_model_tensor_data(&sums, &sum_bytes, m, i) != LB_OK ||
            lb_model_tensor_data(&counts, &count_bytes, m, ci) != LB_OK || count_bytes < 4) {
            *error = path + ": " + weight + " has no readable counts";
            lb_model_close(m);
            return false;
        }
        const size_t n_mat = count_bytes / 4, ne0 = sum_bytes / 4 / n_mat;
        std::vector<float> v(ne0 * n_mat);
        for (size_t e = 0; e < n_mat; ++e) {
            const float c = static_cast<const float *>(counts)[e];
            for (size_t j = 0; j < ne0; ++j)
                v[e * ne0 + j] = c > 0 ? static_cast<const float *>(sums)[e * ne0 + j] / c : 1.0f;
        }
        out.names.push_back(weight);
        out.values.push_back(std::move(v));
    }
    lb_model_close(m);
    for (size_t i = 0; i < out.names.size(); ++i)
        out.entries.push_back({out.names[i].c_str(), out.values[i].data(), out.values[i].size()});
    out.entries.push_back({nullptr, nullptr, 0});
    return true;
}

} // namespace peer
